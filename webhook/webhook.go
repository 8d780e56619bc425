// Package webhook delivers the event log's changes to registered HTTP
// endpoints, signed, at least once.
//
// A Dispatcher runs beside the server. It turns new events into delivery
// rows (db.EnqueueDeliveries: one transaction per batch, with the
// dispatcher's cursor, so a crash never loses or doubles one), then sends
// the due deliveries with a bounded number of concurrent requests. Each
// attempt is recorded before it starts and completed when it ends. A 2xx
// answer succeeds; anything else (an error status, a redirect, a timeout,
// a refused connection) is retried with exponential backoff until
// MaxAttempts, after which the delivery is dead. An attempt cut short by
// a shutdown is retried at the next start; one cut short by a crash is
// retried once its lease runs out. Receivers deduplicate by delivery id
// (X-Trendql-Delivery).
//
// Mutations never wait for any of this: deliveries are read from the log
// after the commit.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/trendql/trendql/db"
)

// Defaults for Options' zero values.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 12
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffMax  = time.Hour
	DefaultConcurrency = 4
	DefaultRetention   = 30 * 24 * time.Hour
)

// The request headers.
const (
	HeaderDelivery  = "X-Trendql-Delivery"  // the delivery's id: the same on every retry
	HeaderEvent     = "X-Trendql-Event"     // "Trend.UPDATE" and the like, or "ping"
	HeaderTimestamp = "X-Trendql-Timestamp" // unix seconds when this attempt was signed
	HeaderSignature = "X-Trendql-Signature" // "v1=" + hex HMAC-SHA256(secret, timestamp + "." + body)
)

const (
	enqueueBatch = 500
	maxIdle      = 30 * time.Second // how long the loop sleeps with nothing due
	errorPause   = time.Second      // after a database error
	recordBudget = 5 * time.Second  // to record an outcome, even during shutdown
)

// Options configure a Dispatcher. Only DB is required.
type Options struct {
	DB     *db.DB
	Logger *slog.Logger
	// Client sends the requests; nil means one with Timeout that does not
	// follow redirects (a redirect is a failed attempt), uses no proxy, and
	// refuses non-public addresses (see CheckTarget) unless
	// AllowPrivateTargets. A Client given here is used as it is.
	Client *http.Client
	// AllowPrivateTargets lets webhooks reach loopback, private,
	// link-local and other non-public addresses: for local development
	// and tests only.
	AllowPrivateTargets bool
	// Timeout bounds one attempt (connect, send, answer).
	Timeout time.Duration
	// MaxAttempts is how many attempts a delivery gets before it is dead.
	MaxAttempts int
	// BackoffBase is the wait after the first failure; it doubles after
	// each next one (with jitter: half of it fixed, half random) up to
	// BackoffMax.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Concurrency is how many requests may be in flight at once.
	Concurrency int
	// Lease is how long a claimed attempt stays hidden from other claims;
	// past it, an attempt whose process died is retried. Default: Timeout
	// plus 30 s.
	Lease time.Duration
	// Retention is how long finished deliveries (succeeded or dead) are
	// kept for admins to inspect; older ones are pruned about hourly.
	// Default: DefaultRetention; negative: kept for ever.
	Retention time.Duration
}

// Dispatcher turns events into deliveries and sends them.
type Dispatcher struct {
	o      Options
	client *http.Client

	ctx     context.Context // ends claiming
	stop    context.CancelFunc
	sendCtx context.Context // aborts requests in flight
	abort   context.CancelFunc

	slots chan struct{} // one per request in flight
	freed chan struct{} // a request ended
	sends sync.WaitGroup

	once sync.Once
	done chan struct{}

	pruned time.Time // when finished deliveries were last pruned
}

// New returns a Dispatcher; Start runs it.
func New(o Options) *Dispatcher {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = DefaultBackoffMax
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Lease <= 0 {
		o.Lease = o.Timeout + 30*time.Second
	}
	client := o.Client
	if client == nil {
		client = newClient(o.Timeout, o.AllowPrivateTargets)
	}
	d := &Dispatcher{o: o, client: client, slots: make(chan struct{}, o.Concurrency), freed: make(chan struct{}, 1), done: make(chan struct{})}
	d.ctx, d.stop = context.WithCancel(context.Background())
	d.sendCtx, d.abort = context.WithCancel(context.Background())
	return d
}

// Start runs the dispatcher in the background until Shutdown.
func (d *Dispatcher) Start() {
	d.once.Do(func() { go d.loop() })
}

// Shutdown stops taking deliveries and waits for the requests in flight
// until ctx ends; then it aborts them (their attempts are recorded as
// interrupted and retried at the next start) and returns ctx's error.
func (d *Dispatcher) Shutdown(ctx context.Context) error {
	d.once.Do(func() { close(d.done) }) // never started
	d.stop()
	<-d.done
	idle := make(chan struct{})
	go func() {
		d.sends.Wait()
		close(idle)
	}()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		d.abort()
		<-idle
		return ctx.Err()
	}
}

func (d *Dispatcher) loop() {
	defer close(d.done)
	events, stopEvents := d.o.DB.Listen()
	defer stopEvents()
	queued, stopQueued := d.o.DB.ListenDeliveries()
	defer stopQueued()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := d.step()
		timer.Reset(wait)
		select {
		case <-d.ctx.Done():
			return
		case <-events:
		case <-queued:
		case <-d.freed:
		case <-timer.C:
		}
	}
}

// pruneEvery is how often finished deliveries past Retention are deleted.
const pruneEvery = time.Hour

// prune deletes finished deliveries older than Retention, at most once an
// interval.
func (d *Dispatcher) prune() {
	if d.o.Retention < 0 || time.Since(d.pruned) < pruneEvery {
		return
	}
	d.pruned = time.Now()
	n, err := d.o.DB.PruneDeliveries(d.ctx, time.Now().Add(-d.o.Retention))
	if err != nil {
		d.dbError("pruning deliveries", err)
		return
	}
	if n > 0 {
		d.o.Logger.Info("webhooks: pruned finished deliveries", "count", n, "older_than", d.o.Retention)
	}
}

// step queues the new events, starts what is due as far as there is room,
// and says how long to sleep unless woken.
func (d *Dispatcher) step() time.Duration {
	d.prune()
	for {
		n, err := d.o.DB.EnqueueDeliveries(d.ctx, enqueueBatch)
		if err != nil {
			return d.dbError("queueing deliveries", err)
		}
		if n < enqueueBatch {
			break
		}
	}
	free := cap(d.slots) - len(d.slots)
	if free == 0 {
		return maxIdle // a request ending wakes us
	}
	jobs, err := d.o.DB.ClaimDeliveries(d.ctx, free, d.o.Lease)
	if err != nil {
		return d.dbError("claiming deliveries", err)
	}
	for _, j := range jobs {
		d.slots <- struct{}{}
		d.sends.Add(1)
		go d.send(j)
	}
	if len(jobs) == free {
		return 0 // there may be more
	}
	next, ok, err := d.o.DB.NextDeliveryDue(d.ctx)
	if err != nil {
		return d.dbError("scheduling deliveries", err)
	}
	if !ok {
		return maxIdle
	}
	// The due time is stored to the millisecond: do not spin on a claim
	// that is a hair early.
	return min(max(time.Until(next), 5*time.Millisecond), maxIdle)
}

func (d *Dispatcher) dbError(what string, err error) time.Duration {
	if d.ctx.Err() == nil {
		d.o.Logger.Error("webhooks: "+what, "err", err)
	}
	return errorPause
}

// send makes one attempt and records its outcome.
func (d *Dispatcher) send(j *db.DeliveryJob) {
	defer func() {
		<-d.slots
		d.sends.Done()
		select {
		case d.freed <- struct{}{}:
		default:
		}
	}()
	o := d.attempt(j)
	if !o.Succeeded {
		switch {
		case d.sendCtx.Err() != nil:
			o.Error = "interrupted: the server shut down during the attempt"
			o.RetryAt = time.Now()
		case j.Attempt < d.o.MaxAttempts:
			o.RetryAt = time.Now().Add(d.backoff(j.Attempt))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordBudget)
	defer cancel()
	if err := d.o.DB.FinishAttempt(ctx, j, o); err != nil {
		d.o.Logger.Error("webhooks: recording an attempt", "delivery", j.Delivery.ID, "err", err)
	}
	log := d.o.Logger.With("delivery", db.EncodeID(db.TypeWebhookDelivery, j.Delivery.ID), "attempt", j.Attempt, "url", j.URL)
	switch {
	case o.Succeeded:
		log.Debug("webhook delivered", "status", o.StatusCode)
	case o.RetryAt.IsZero():
		log.Warn("webhook delivery dead: attempts exhausted", "err", o.Error)
	default:
		log.Info("webhook attempt failed; will retry", "err", o.Error, "retry_at", o.RetryAt.Format(time.RFC3339))
	}
}

// attempt sends one request.
func (d *Dispatcher) attempt(j *db.DeliveryJob) db.AttemptOutcome {
	start := time.Now()
	body, err := json.Marshal(NewPayload(j))
	if err != nil {
		return db.AttemptOutcome{Error: "encoding the payload: " + err.Error()}
	}
	req, err := http.NewRequestWithContext(d.sendCtx, http.MethodPost, j.URL, bytes.NewReader(body))
	if err != nil {
		return db.AttemptOutcome{Error: "bad URL: " + err.Error()}
	}
	ts := strconv.FormatInt(start.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trendql-webhooks/1")
	req.Header.Set(HeaderDelivery, db.EncodeID(db.TypeWebhookDelivery, j.Delivery.ID))
	req.Header.Set(HeaderEvent, eventName(j))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(j.Secret, ts, body))
	res, err := d.client.Do(req)
	o := db.AttemptOutcome{}
	if err != nil {
		o.Error = describe(err)
		o.Duration = time.Since(start)
		return o
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // let the connection be reused
	res.Body.Close()
	o.Duration, o.StatusCode = time.Since(start), res.StatusCode
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		o.Succeeded = true
		return o
	}
	o.Error = StatusLine(res.StatusCode)
	return o
}

// StatusLine is what a failed attempt records for an answer: the status
// code and its standard text ("HTTP 500 Internal Server Error"). Never the
// body nor the reason phrase the target sent: those are the target's words,
// and a webhook aimed at an internal service would echo its contents to
// whoever reads the deliveries.
func StatusLine(code int) string {
	if text := http.StatusText(code); text != "" {
		return fmt.Sprintf("HTTP %d %s", code, text)
	}
	return fmt.Sprintf("HTTP %d", code)
}

// describe turns a client error into a short sentence of our own words:
// never the request's URL (which the delivery shows anyway) and never
// bytes the target sent (Go quotes a malformed answer, a TLS error names
// the certificate's hosts), which would let whoever reads deliveries read
// what an endpoint answered.
func describe(err error) string {
	var (
		blocked *blockedError
		dns     *net.DNSError
		tlsErr  *tls.CertificateVerificationError
		recErr  tls.RecordHeaderError
		ue      *url.Error
	)
	switch {
	case errors.As(err, &blocked):
		return blocked.Error()
	case errors.As(err, &ue) && ue.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &dns):
		return "could not resolve the host"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset by the endpoint"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "the endpoint's network is unreachable"
	case errors.As(err, &tlsErr):
		return "TLS: the endpoint's certificate was not accepted"
	case errors.As(err, &recErr):
		return "TLS: the endpoint does not speak TLS"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection closed before an answer"
	case strings.Contains(err.Error(), "server closed idle connection"):
		return "the connection closed before an answer"
	case strings.Contains(err.Error(), "malformed HTTP"), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"),
		// The endpoint spoke before it was asked (an SSH or SMTP banner
		// arriving before the request was written): net/http drops the
		// connection as an unsolicited response.
		strings.Contains(err.Error(), "readLoopPeekFailLocked"):
		return "malformed HTTP response"
	case strings.Contains(err.Error(), "tls:"), strings.Contains(err.Error(), "x509:"):
		return "TLS handshake failed"
	}
	return "the request failed"
}

// backoff is the wait after the n-th failed attempt: BackoffBase·2^(n-1),
// at most BackoffMax, half of it fixed and half random (so a receiver
// that comes back is not hit by every retry at once).
func (d *Dispatcher) backoff(n int) time.Duration {
	wait := d.o.BackoffBase
	for i := 1; i < n && wait < d.o.BackoffMax; i++ {
		wait *= 2
	}
	wait = min(wait, d.o.BackoffMax)
	half := wait / 2
	return half + rand.N(half+1)
}

func eventName(j *db.DeliveryJob) string {
	if j.Event == nil {
		return "ping"
	}
	return string(j.Event.Type) + "." + j.Event.Action
}

// Sign returns the X-Trendql-Signature value for a body signed at
// timestamp (unix seconds, as sent in X-Trendql-Timestamp).
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a request's signature, as a Go receiver would: the
// signature must match (in constant time) and the timestamp be within
// tolerance of now (against replays). It returns the first problem.
func Verify(secret, timestamp, signature string, body []byte, tolerance time.Duration, now time.Time) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("webhook: bad timestamp")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return errors.New("webhook: timestamp outside the tolerance")
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return errors.New("webhook: signature mismatch")
	}
	return nil
}

// Payload is the JSON body of every delivery.
type Payload struct {
	// DeliveryID is the same on every retry of one delivery: dedupe on it.
	DeliveryID string `json:"deliveryId"`
	WebhookID  string `json:"webhookId"`
	// Type is "change" for an event, "ping" for testWebhook.
	Type string `json:"type"`
	// Event is the change; nil for a ping.
	Event *Event `json:"event"`
}

// Event is a change as a webhook receives it: the fields of the GraphQL
// Revision, plus the changes-feed cursor after it.
type Event struct {
	ID            string          `json:"id"`     // the revision's id
	Cursor        string          `json:"cursor"` // changes(since:) resumes after this change
	Type          string          `json:"type"`   // Trend, Framework, Company, FAQ or Article
	ItemID        *string         `json:"itemId"` // null for the article
	Slug          string          `json:"slug"`
	Action        string          `json:"action"`
	Version       int             `json:"version"`
	Status        string          `json:"status"`
	At            string          `json:"at"`
	Actor         string          `json:"actor"`
	ChangedFields []string        `json:"changedFields"`
	Document      json.RawMessage `json:"document"`
	// TransactionID names the transaction that made the change (the
	// revision id of its first change): the changes of one request share
	// it and are delivered in order.
	TransactionID string `json:"transactionId"`
}

// NewPayload builds the body of a claimed delivery. It depends only on
// stored data, so every retry sends the same bytes. A webhook without
// drafts gets the event's public form, exactly as the anonymous changes
// feed shows it: no actor, no links to items that were unpublished at the
// time, only the fields that form changed.
func NewPayload(j *db.DeliveryJob) *Payload {
	p := &Payload{
		DeliveryID: db.EncodeID(db.TypeWebhookDelivery, j.Delivery.ID),
		WebhookID:  db.EncodeID(db.TypeWebhook, j.Delivery.WebhookID),
		Type:       "ping",
	}
	if e := j.Event; e != nil {
		if !j.IncludeDrafts {
			e = e.Redact()
			if !e.Projected() {
				// An event older than stored public forms: send none of
				// its links rather than guess which were public.
				doc, err := e.PublicDocument(func(db.SlugKey) bool { return false })
				if err != nil {
					doc = json.RawMessage("null")
				}
				e.Document = doc
			}
		}
		p.Type = "change"
		p.Event = &Event{
			ID: db.EncodeID(db.TypeRevision, e.ID), Cursor: db.EncodeChangeCursor(e.ID),
			Type: string(e.Type), Slug: e.Slug, Action: e.Action, Version: e.Version, Status: string(e.Status),
			At: e.At, Actor: e.Actor, ChangedFields: e.Changed(), Document: e.Document,
			TransactionID: e.TransactionID(),
		}
		if e.Type.Content() {
			id := e.ItemGlobalID()
			p.Event.ItemID = &id
		}
	}
	return p
}
