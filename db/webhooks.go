package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Webhooks: endpoints that receive the event log's changes over HTTP.
// Their deliveries are rows, made from the log by EnqueueDeliveries and
// sent by a worker (package webhook) through ClaimDeliveries and
// FinishAttempt, so a delivery survives crashes and restarts: at least
// once, each attempt recorded. This file holds their storage only; the
// retry policy and the HTTP belong to the worker.

// Limits on webhook fields.
const (
	MaxWebhookURLLen  = 2048
	MinWebhookSecret  = 16
	MaxWebhookSecret  = 200
	webhookSecretBody = 32 // random bytes in a generated secret
)

// webhookSecretPrefix starts generated secrets, so scanners can spot them.
const webhookSecretPrefix = "whsec_"

// Webhook is a registered endpoint and what it listens to.
type Webhook struct {
	ID  int64
	URL string
	// Secret signs every request. It is stored in clear (signing needs it)
	// and shown to clients only when it is set.
	Secret string
	// Types are the item types it hears about; empty: every change, the
	// article's included.
	Types []TypeName
	// Actions are the actions it hears about; empty: all.
	Actions []string
	// IncludeDrafts: when false, it hears only the public changes, in
	// their public form (see Event.Public and Event.Redact): exactly what
	// the anonymous changes feed gets, what a static-site rebuild needs.
	IncludeDrafts bool
	// Active: an inactive webhook gets no new deliveries, and its queued
	// ones wait until it is active again.
	Active    bool
	CreatedAt string
	UpdatedAt string

	afterEvent int64 // events up to this one predate the webhook
}

// Matches reports whether event e is one the webhook listens to.
func (w *Webhook) Matches(e *Event) bool {
	return e.ID > w.afterEvent &&
		(len(w.Types) == 0 || slices.Contains(w.Types, e.Type)) &&
		(len(w.Actions) == 0 || slices.Contains(w.Actions, e.Action)) &&
		(w.IncludeDrafts || e.Public())
}

// WebhookInput holds a webhook's fields to set; nil means unchanged (or,
// on creation, the default: a generated secret, every type and action,
// drafts included, active).
type WebhookInput struct {
	URL           *string
	Secret        *string
	Types         *[]TypeName
	Actions       *[]string
	IncludeDrafts *bool
	Active        *bool
}

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"   // not attempted yet
	DeliverySucceeded DeliveryStatus = "succeeded" // a 2xx answer
	DeliveryFailed    DeliveryStatus = "failed"    // the last attempt failed; another is scheduled
	DeliveryDead      DeliveryStatus = "dead"      // attempts exhausted: given up
)

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	switch s {
	case DeliveryPending, DeliverySucceeded, DeliveryFailed, DeliveryDead:
		return true
	}
	return false
}

// WebhookDelivery is one event (or a ping) to send to one webhook.
type WebhookDelivery struct {
	ID             int64
	WebhookID      int64
	EventID        *int64 // nil for a ping
	Status         DeliveryStatus
	Attempts       int // attempts started
	NextAttemptAt  *string
	LastStatusCode *int
	LastError      *string
	CreatedAt      string
	UpdatedAt      string
}

// Ping reports whether the delivery is a test ping rather than an event.
func (d *WebhookDelivery) Ping() bool { return d.EventID == nil }

// WebhookAttempt is one attempt to send a delivery.
type WebhookAttempt struct {
	DeliveryID int64
	Number     int
	StartedAt  string
	FinishedAt *string // nil while in flight, or when the process died during it
	StatusCode *int
	Error      *string
	DurationMs *int
}

// validateWebhook checks the fields being set.
func validateWebhook(in WebhookInput) error {
	var v validator
	if in.URL != nil {
		v.webhookURL("input.url", *in.URL)
	}
	if in.Secret != nil {
		s := *in.Secret
		if n := utf8.RuneCountInString(s); n < MinWebhookSecret || n > MaxWebhookSecret || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
			v.fail("input.secret", "the secret must be %d to %d characters, without surrounding spaces", MinWebhookSecret, MaxWebhookSecret)
		}
	}
	if in.Types != nil {
		for _, t := range *in.Types {
			if !t.Content() {
				v.fail("input.types", "%q is not a content type", t)
			}
		}
	}
	if in.Actions != nil {
		for _, a := range *in.Actions {
			if !slices.Contains([]string{ActionCreate, ActionUpdate, ActionDelete, ActionPublish, ActionUnpublish, ActionLink, ActionUnlink, ActionRestore}, a) {
				v.fail("input.actions", "%q is not an action", a)
			}
		}
	}
	return v.err
}

// webhookURL checks an endpoint: absolute http or https with a host, no
// credentials (they would show in listings: use the secret) and no fragment.
func (v *validator) webhookURL(field, s string) {
	u, err := url.Parse(s)
	switch {
	case len(s) > MaxWebhookURLLen:
		v.fail(field, "the URL is longer than %d characters", MaxWebhookURLLen)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "":
		v.fail(field, "%q is not an http or https URL with a host", truncate(s, 100))
	case u.User != nil:
		v.fail(field, "the URL must not hold credentials: receivers check the signature instead")
	case u.Fragment != "" || strings.Contains(s, "#"):
		v.fail(field, "the URL must not have a #fragment")
	case numericHost(u.Hostname()):
		v.fail(field, "%q is not a valid IP address: write an IPv4 address as four decimal numbers, or use a name", truncate(u.Hostname(), 100))
	}
}

// numericHost reports whether host is an IPv4 address in one of the forms
// that resolvers and browsers accept but that are not the dotted decimal
// quad: an integer (2130706433), hex (0x7f000001), octal (0177.0.0.1) or
// shortened (127.1). Following the WHATWG URL standard, a host whose last
// label is a number is an IPv4 address; no TLD is numeric. Such a host
// means different addresses to different parsers, so it is refused.
func numericHost(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil || host == "" {
		return false
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if hex, ok := strings.CutPrefix(last, "0x"); ok {
		last = hex
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}

func newWebhookSecret() (string, error) {
	b := make([]byte, webhookSecretBody)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return webhookSecretPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

func typeNames(l []string) []TypeName {
	out := make([]TypeName, len(l))
	for i, s := range l {
		out[i] = TypeName(s)
	}
	return out
}

func typeStrings(l []TypeName) []string {
	out := make([]string, len(l))
	for i, t := range l {
		out[i] = string(t)
	}
	return out
}

const webhookCols = "id, url, secret, types, actions, include_drafts, active, after_event_id, created_at, updated_at"

func scanWebhook(s scanner) (*Webhook, error) {
	w := &Webhook{}
	var types, actions string
	err := s.Scan(&w.ID, &w.URL, &w.Secret, &types, &actions, &w.IncludeDrafts, &w.Active, &w.afterEvent, &w.CreatedAt, &w.UpdatedAt)
	w.Types, w.Actions = typeNames(decodeList(types)), decodeList(actions)
	return w, err
}

// CreateWebhook registers an endpoint. Without a secret one is generated;
// the returned webhook holds it, for the caller to show this once. The
// webhook hears about changes committed after it. EINVALID for a bad
// field.
func (d *DB) CreateWebhook(ctx context.Context, in WebhookInput) (*Webhook, error) {
	if in.URL == nil {
		return nil, Invalid("input.url", "the URL is required")
	}
	if err := validateWebhook(in); err != nil {
		return nil, err
	}
	w := &Webhook{URL: *in.URL, Types: []TypeName{}, Actions: []string{}, IncludeDrafts: true, Active: true}
	if in.Secret != nil {
		w.Secret = *in.Secret
	} else {
		s, err := newWebhookSecret()
		if err != nil {
			return nil, fmt.Errorf("create webhook: %w", err)
		}
		w.Secret = s
	}
	set(&w.Types, in.Types)
	set(&w.Actions, in.Actions)
	set(&w.IncludeDrafts, in.IncludeDrafts)
	set(&w.Active, in.Active)
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	defer tx.Rollback()
	w.CreatedAt, w.UpdatedAt = tx.now(), tx.now()
	err = tx.queryRow(`INSERT INTO webhooks (url, secret, types, actions, include_drafts, active, after_event_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, (SELECT coalesce(max(id), 0) FROM events), ?, ?) RETURNING id, after_event_id`,
		w.URL, w.Secret, encodeList(typeStrings(w.Types)), encodeList(w.Actions), w.IncludeDrafts, w.Active, w.CreatedAt, w.UpdatedAt).
		Scan(&w.ID, &w.afterEvent)
	if err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return w, tx.Commit()
}

// UpdateWebhook sets the given fields. ENOTFOUND, EINVALID.
func (d *DB) UpdateWebhook(ctx context.Context, id int64, in WebhookInput) (*Webhook, error) {
	if err := validateWebhook(in); err != nil {
		return nil, err
	}
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	defer tx.Rollback()
	w, err := scanWebhook(tx.queryRow("SELECT "+webhookCols+" FROM webhooks WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no webhook %s", EncodeID(TypeWebhook, id))
	}
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	set(&w.URL, in.URL)
	set(&w.Secret, in.Secret)
	set(&w.Types, in.Types)
	set(&w.Actions, in.Actions)
	set(&w.IncludeDrafts, in.IncludeDrafts)
	set(&w.Active, in.Active)
	w.UpdatedAt = tx.now()
	tx.root().deliveries = in.Active != nil && *in.Active
	_, err = tx.exec(`UPDATE webhooks SET url = ?, secret = ?, types = ?, actions = ?, include_drafts = ?, active = ?, updated_at = ? WHERE id = ?`,
		w.URL, w.Secret, encodeList(typeStrings(w.Types)), encodeList(w.Actions), w.IncludeDrafts, w.Active, w.UpdatedAt, id)
	if err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("update webhook: %w", err)
	}
	if in.Active != nil && *in.Active {
		d.deliveryHub.broadcast(nil, nil) // its queued deliveries may be due
	}
	return w, nil
}

// RotateWebhookSecret replaces a webhook's secret with a generated one and
// returns the webhook holding it. ENOTFOUND.
func (d *DB) RotateWebhookSecret(ctx context.Context, id int64) (*Webhook, error) {
	s, err := newWebhookSecret()
	if err != nil {
		return nil, fmt.Errorf("rotate webhook secret: %w", err)
	}
	return d.UpdateWebhook(ctx, id, WebhookInput{Secret: &s})
}

// DeleteWebhook removes a webhook with its deliveries. ENOTFOUND.
func (d *DB) DeleteWebhook(ctx context.Context, id int64) error {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	defer tx.Rollback()
	r, err := tx.exec("DELETE FROM webhooks WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete webhook: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return Errorf(ENOTFOUND, "no webhook %s", EncodeID(TypeWebhook, id))
	}
	return tx.Commit()
}

// Webhooks lists every webhook, oldest first.
func (d *DB) Webhooks(ctx context.Context) ([]*Webhook, error) {
	rows, err := d.query(ctx, "SELECT "+webhookCols+" FROM webhooks ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	defer rows.Close()
	out := []*Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// Webhook returns one webhook. ENOTFOUND.
func (d *DB) Webhook(ctx context.Context, id int64) (*Webhook, error) {
	w, err := scanWebhook(d.queryRow(ctx, "SELECT "+webhookCols+" FROM webhooks WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no webhook %s", EncodeID(TypeWebhook, id))
	}
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	return w, nil
}

const deliveryCols = "x.id, x.webhook_id, x.event_id, x.status, x.attempts, x.next_attempt_at, x.last_status_code, x.last_error, x.created_at, x.updated_at"

// deliveryReturning is deliveryCols for a RETURNING clause, which takes
// no table alias.
var deliveryReturning = strings.ReplaceAll(deliveryCols, "x.", "")

func scanDelivery(s scanner) (*WebhookDelivery, error) {
	x := &WebhookDelivery{}
	err := s.Scan(&x.ID, &x.WebhookID, &x.EventID, &x.Status, &x.Attempts, &x.NextAttemptAt, &x.LastStatusCode, &x.LastError, &x.CreatedAt, &x.UpdatedAt)
	return x, err
}

var deliveryTable = &table[*WebhookDelivery]{
	typ: TypeWebhookDelivery, name: "webhook_deliveries", alias: "x",
	cols:         deliveryCols,
	scan:         scanDelivery,
	rowID:        func(x *WebhookDelivery) int64 { return x.ID },
	defaultOrder: "NEWEST",
	orders: map[string]orderCol[*WebhookDelivery]{
		"NEWEST": {expr: "-x.id", isInt: true, key: func(x *WebhookDelivery) any { return -x.ID }},
	},
}

func deliveryWhere(webhookID int64, status *DeliveryStatus) (where, error) {
	w := where{}
	w.add("x.webhook_id = ?", webhookID)
	if status != nil {
		if !status.Valid() {
			return w, Invalid("status", "%q is not a delivery status", *status)
		}
		w.add("x.status = ?", string(*status))
	}
	return w, nil
}

// Deliveries returns one page of a webhook's deliveries, newest first,
// optionally only those with a status.
func (d *DB) Deliveries(ctx context.Context, webhookID int64, status *DeliveryStatus, pa PageArgs) (*Page[*WebhookDelivery], error) {
	w, err := deliveryWhere(webhookID, status)
	if err != nil {
		return nil, err
	}
	return list(ctx, d, deliveryTable, w, nil, nil, pa)
}

// CountDeliveries counts what Deliveries would list in all pages.
func (d *DB) CountDeliveries(ctx context.Context, webhookID int64, status *DeliveryStatus) (int, error) {
	w, err := deliveryWhere(webhookID, status)
	if err != nil {
		return 0, err
	}
	return count(ctx, d, deliveryTable, w)
}

// Delivery returns one delivery. ENOTFOUND.
func (d *DB) Delivery(ctx context.Context, id int64) (*WebhookDelivery, error) {
	x, err := scanDelivery(d.queryRow(ctx, "SELECT "+deliveryCols+" FROM webhook_deliveries x WHERE x.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no webhook delivery %s", EncodeID(TypeWebhookDelivery, id))
	}
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	return x, nil
}

// AttemptsOfDeliveries returns the attempts of each delivery, oldest
// first, in one statement.
func (d *DB) AttemptsOfDeliveries(ctx context.Context, ids []int64) (map[int64][]*WebhookAttempt, error) {
	rows, err := d.query(ctx, `SELECT delivery_id, number, started_at, finished_at, status_code, error, duration_ms
		FROM webhook_attempts WHERE delivery_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?)) ORDER BY delivery_id, number`, int64sJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("delivery attempts: %w", err)
	}
	defer rows.Close()
	out := make(map[int64][]*WebhookAttempt, len(ids))
	for _, id := range ids {
		out[id] = []*WebhookAttempt{}
	}
	for rows.Next() {
		a := &WebhookAttempt{}
		if err := rows.Scan(&a.DeliveryID, &a.Number, &a.StartedAt, &a.FinishedAt, &a.StatusCode, &a.Error, &a.DurationMs); err != nil {
			return nil, fmt.Errorf("delivery attempts: %w", err)
		}
		out[a.DeliveryID] = append(out[a.DeliveryID], a)
	}
	return out, rows.Err()
}

// EventsByIDs returns events keyed by id, in one statement.
func (d *DB) EventsByIDs(ctx context.Context, ids []int64) (map[int64]*Event, error) {
	rows, err := d.query(ctx, "SELECT "+eventCols+" FROM events WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))", int64sJSON(ids))
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]*Event, len(ids))
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		out[e.ID] = e
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	list := make([]*Event, 0, len(out))
	for _, e := range out {
		list = append(list, e)
	}
	return out, d.fillDocuments(ctx, list)
}

// PingWebhook queues a test delivery (no event) to send at once, active
// or not. ENOTFOUND.
func (d *DB) PingWebhook(ctx context.Context, webhookID int64) (*WebhookDelivery, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("ping webhook: %w", err)
	}
	defer tx.Rollback()
	x, err := scanDelivery(tx.queryRow(`INSERT INTO webhook_deliveries (webhook_id, event_id, status, next_attempt_at, created_at, updated_at)
		SELECT id, NULL, 'pending', ?1, ?1, ?1 FROM webhooks WHERE id = ?2 RETURNING `+deliveryReturning, tx.now(), webhookID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no webhook %s", EncodeID(TypeWebhook, webhookID))
	}
	if err != nil {
		return nil, fmt.Errorf("ping webhook: %w", err)
	}
	tx.root().deliveries = true
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("ping webhook: %w", err)
	}
	d.deliveryHub.broadcast(nil, nil)
	return x, nil
}

// RetryDelivery schedules one more attempt of a delivery now, whatever its
// status (a dead one gets exactly one more). ENOTFOUND.
func (d *DB) RetryDelivery(ctx context.Context, id int64) (*WebhookDelivery, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("retry delivery: %w", err)
	}
	defer tx.Rollback()
	x, err := scanDelivery(tx.queryRow(`UPDATE webhook_deliveries SET status = CASE WHEN attempts = 0 THEN 'pending' ELSE 'failed' END,
		next_attempt_at = ?1, updated_at = ?1 WHERE id = ?2 RETURNING `+deliveryReturning, tx.now(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no webhook delivery %s", EncodeID(TypeWebhookDelivery, id))
	}
	if err != nil {
		return nil, fmt.Errorf("retry delivery: %w", err)
	}
	tx.root().deliveries = true
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("retry delivery: %w", err)
	}
	d.deliveryHub.broadcast(nil, nil)
	return x, nil
}

// ListenDeliveries returns a channel that receives a value (coalesced)
// when deliveries may have become due through this DB (new ones queued, a
// retry asked for, a webhook reactivated), and a function to stop.
func (d *DB) ListenDeliveries() (<-chan struct{}, func()) { return d.deliveryHub.listen() }

// EnqueueDeliveries turns up to limit events after the dispatcher's cursor
// into deliveries, one per matching active webhook, and advances the
// cursor past them, all in one transaction: a crash leaves either both or
// neither. It returns how many events it read (limit: call again).
func (d *DB) EnqueueDeliveries(ctx context.Context, limit int) (int, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	defer tx.Rollback()
	n, queued, err := tx.enqueueDeliveries(limit)
	if err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("enqueue deliveries: %w", err)
	}
	if queued > 0 {
		d.deliveryHub.broadcast(nil, nil)
	}
	return n, nil
}

func (tx *Tx) enqueueDeliveries(limit int) (events, queued int, err error) {
	var cursor int64
	if err := tx.queryRow("SELECT last_event_id FROM webhook_dispatch WHERE id = 1").Scan(&cursor); err != nil {
		return 0, 0, err
	}
	rows, err := tx.query("SELECT "+eventCols+" FROM events WHERE id > ? ORDER BY id LIMIT ?", cursor, limit)
	if err != nil {
		return 0, 0, err
	}
	var evs []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		evs = append(evs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(evs) == 0 {
		return 0, 0, err
	}
	if err := tx.fillDocuments(evs); err != nil {
		return 0, 0, err
	}
	rows, err = tx.query("SELECT " + webhookCols + " FROM webhooks WHERE active = 1 ORDER BY id")
	if err != nil {
		return 0, 0, err
	}
	var hooks []*Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			rows.Close()
			return 0, 0, err
		}
		hooks = append(hooks, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	now := tx.now()
	for _, e := range evs {
		for _, w := range hooks {
			if !w.Matches(e) {
				continue
			}
			// OR IGNORE: two dispatchers on one database (two server
			// processes) cannot queue an event twice.
			r, err := tx.exec(`INSERT OR IGNORE INTO webhook_deliveries (webhook_id, event_id, status, next_attempt_at, created_at, updated_at)
				VALUES (?, ?, 'pending', ?, ?, ?)`, w.ID, e.ID, now, now, now)
			if err != nil {
				return 0, 0, err
			}
			if n, _ := r.RowsAffected(); n > 0 {
				queued++
			}
		}
	}
	if _, err := tx.exec("UPDATE webhook_dispatch SET last_event_id = ? WHERE id = 1", evs[len(evs)-1].ID); err != nil {
		return 0, 0, err
	}
	return len(evs), queued, nil
}

// DeliveryJob is a claimed delivery: everything a worker needs to send
// attempt number Attempt.
type DeliveryJob struct {
	Delivery *WebhookDelivery
	Attempt  int
	URL      string
	Secret   string
	// IncludeDrafts is the webhook's setting when claimed: without it, the
	// event is sent in its public form (Event.Redact).
	IncludeDrafts bool
	Event         *Event // nil for a ping
}

// interruptedAttempt is the outcome recorded for an attempt whose process
// stopped before it ended.
const interruptedAttempt = "interrupted: the server stopped during the attempt"

// ClaimDeliveries claims up to limit due deliveries of active webhooks,
// oldest due first, for lease: it counts and records the start of their
// next attempt and hides them from other claims until the lease ends. A
// delivery whose lease ran out without an outcome (its process died
// mid-attempt) is due again: that attempt is recorded as interrupted and
// a new one starts.
func (d *DB) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]*DeliveryJob, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer tx.Rollback()
	now := tx.now()
	rows, err := tx.query(`SELECT `+deliveryCols+`, w.url, w.secret, w.include_drafts FROM webhook_deliveries x JOIN webhooks w ON w.id = x.webhook_id
		WHERE x.status IN ('pending', 'failed') AND w.active = 1 AND x.next_attempt_at <= ?1
		AND (x.lease_until IS NULL OR x.lease_until <= ?1)
		ORDER BY x.next_attempt_at, x.id LIMIT ?2`, now, limit)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	var jobs []*DeliveryJob
	for rows.Next() {
		j := &DeliveryJob{}
		x := &WebhookDelivery{}
		err := rows.Scan(&x.ID, &x.WebhookID, &x.EventID, &x.Status, &x.Attempts, &x.NextAttemptAt, &x.LastStatusCode, &x.LastError,
			&x.CreatedAt, &x.UpdatedAt, &j.URL, &j.Secret, &j.IncludeDrafts)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		j.Delivery = x
		jobs = append(jobs, j)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	until := formatTime(tx.Now.Add(lease))
	var eventIDs []int64
	for _, j := range jobs {
		x := j.Delivery
		r, err := tx.exec(`UPDATE webhook_attempts SET finished_at = ?, error = ? WHERE delivery_id = ? AND finished_at IS NULL`,
			now, interruptedAttempt, x.ID)
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		interrupted, _ := r.RowsAffected()
		j.Attempt = x.Attempts + 1
		_, err = tx.exec(`UPDATE webhook_deliveries SET attempts = ?, lease_until = ?, updated_at = ?,
			last_error = CASE WHEN ? = 1 THEN ? ELSE last_error END WHERE id = ?`,
			j.Attempt, until, now, interrupted > 0, interruptedAttempt, x.ID)
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		if _, err := tx.exec("INSERT INTO webhook_attempts (delivery_id, number, started_at) VALUES (?, ?, ?)", x.ID, j.Attempt, now); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		x.Attempts = j.Attempt
		if x.EventID != nil {
			eventIDs = append(eventIDs, *x.EventID)
		}
	}
	if len(eventIDs) > 0 {
		rows, err := tx.query("SELECT "+eventCols+" FROM events WHERE id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))", int64sJSON(eventIDs))
		if err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		events := map[int64]*Event{}
		var list []*Event
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("claim deliveries: %w", err)
			}
			events[e.ID] = e
			list = append(list, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		if err := tx.fillDocuments(list); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		for _, j := range jobs {
			if j.Delivery.EventID != nil {
				j.Event = events[*j.Delivery.EventID]
			}
		}
	}
	return jobs, tx.Commit()
}

// AttemptOutcome is how an attempt ended.
type AttemptOutcome struct {
	Succeeded  bool
	StatusCode int    // 0 when no HTTP answer came
	Error      string // why it failed; "" on success
	Duration   time.Duration
	// RetryAt schedules the next attempt of a failed delivery; zero
	// gives it up (dead).
	RetryAt time.Time
}

// FinishAttempt records the outcome of a claimed attempt, and the
// delivery's new status: succeeded, failed (to retry at RetryAt) or dead.
// A success always stands; a failure changes the delivery only if no
// later attempt has started (its lease ran out and another claim took it).
func (d *DB) FinishAttempt(ctx context.Context, j *DeliveryJob, o AttemptOutcome) error {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("finish attempt: %w", err)
	}
	defer tx.Rollback()
	now := tx.now()
	var code, msg any
	if o.StatusCode != 0 {
		code = o.StatusCode
	}
	if o.Error != "" {
		msg = o.Error
	}
	_, err = tx.exec(`UPDATE webhook_attempts SET finished_at = ?, status_code = ?, error = ?, duration_ms = ? WHERE delivery_id = ? AND number = ?`,
		now, code, msg, o.Duration.Milliseconds(), j.Delivery.ID, j.Attempt)
	if err != nil {
		return fmt.Errorf("finish attempt: %w", err)
	}
	status, next := DeliverySucceeded, any(nil)
	switch {
	case o.Succeeded:
	case o.RetryAt.IsZero():
		status = DeliveryDead
	default:
		status, next = DeliveryFailed, formatTime(o.RetryAt)
	}
	_, err = tx.exec(`UPDATE webhook_deliveries SET status = ?, next_attempt_at = ?, lease_until = NULL,
		last_status_code = ?, last_error = ?, updated_at = ?
		WHERE id = ? AND status != 'succeeded' AND (attempts = ? OR ? = 1)`,
		string(status), next, code, msg, now, j.Delivery.ID, j.Attempt, o.Succeeded)
	if err != nil {
		return fmt.Errorf("finish attempt: %w", err)
	}
	return tx.Commit()
}

// NextDeliveryDue returns when the earliest queued delivery of an active
// webhook is due (counting leases of attempts in flight), and false when
// none is queued.
func (d *DB) NextDeliveryDue(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullString
	err := d.queryRow(ctx, `SELECT min(max(x.next_attempt_at, coalesce(x.lease_until, ''))) FROM webhook_deliveries x
		JOIN webhooks w ON w.id = x.webhook_id WHERE x.status IN ('pending', 'failed') AND w.active = 1`).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next delivery: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339Nano, next.String)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next delivery: %w", err)
	}
	return t, true, nil
}

// PruneDeliveries deletes finished deliveries (succeeded or dead) last
// changed before cutoff, with their attempts, so the delivery log does not
// grow without bound; pending and failing ones are kept whatever their age.
// It deletes in transactions of at most PruneBatch deliveries, so writers
// never wait behind it for long. It returns how many it deleted.
func (d *DB) PruneDeliveries(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		n, err := d.pruneDeliveryBatch(ctx, formatTime(cutoff))
		total += n
		if err != nil || n < PruneBatch {
			return total, err
		}
	}
}

func (d *DB) pruneDeliveryBatch(ctx context.Context, before string) (int, error) {
	tx, err := d.BeginTx(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	defer tx.Rollback()
	r, err := tx.exec(`DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE status IN ('succeeded', 'dead') AND updated_at < ? ORDER BY id LIMIT ?)`, before, PruneBatch)
	if err != nil {
		return 0, fmt.Errorf("prune deliveries: %w", err)
	}
	n, _ := r.RowsAffected()
	return int(n), tx.Commit()
}
