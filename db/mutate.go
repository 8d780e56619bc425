package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The mutation API. Every function here is one immediate write transaction
// through the writer, so each change bumps the item's version and appends
// its event in the same commit. Field errors are EINVALID naming the field
// as "input.<name>" (or the argument's name); a stale ifVersion is
// ECONFLICT and changes nothing; an unknown id is ENOTFOUND.

// CompanyPatch holds the fields of a company to set; nil means unchanged.
type CompanyPatch struct {
	Slug *string
	Name *string
}

// FrameworkPatch holds the fields of a framework to set; nil means
// unchanged. An empty Language, Creator or Architecture clears it;
// ClearFirstReleased clears the year. Companies are row ids, in order.
type FrameworkPatch struct {
	Slug               *string
	Name               *string
	Kind               *FrameworkKind
	Language           *string
	Creator            *string
	FirstReleased      *int
	ClearFirstReleased bool
	Architecture       *string
	Summary            *string
	Features           *[]string
	Companies          *[]int64
}

// TrendPatch holds the fields of a trend to set; nil means unchanged.
// Frameworks and Companies are row ids, in order.
type TrendPatch struct {
	Slug       *string
	Rank       *int
	Name       *string
	Category   *Category
	Summary    *string
	Body       *string
	Highlights *[]string
	Examples   *[]string
	Frameworks *[]int64
	Companies  *[]int64
}

// FAQPatch holds the fields of a FAQ to set; nil means unchanged.
// Frameworks and Trends are row ids, in order.
type FAQPatch struct {
	Slug       *string
	Position   *int
	Question   *string
	Answer     *string
	Items      *[]string
	Frameworks *[]int64
	Trends     *[]int64
}

func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// slugsOf turns row ids into slugs; EINVALID naming field for an unknown id.
func (w *writer) slugsOf(t TypeName, field string, ids []int64) ([]string, error) {
	out := make([]string, len(ids))
	for i, id := range ids {
		m, err := w.meta(t, id)
		if IsNotFound(err) {
			return nil, Invalid(field, "no %s with id %s", t, EncodeID(t, id))
		}
		if err != nil {
			return nil, err
		}
		out[i] = m.slug
	}
	return out, nil
}

func (w *writer) setRefs(dst *[]string, t TypeName, field string, ids *[]int64) error {
	if ids == nil {
		return nil
	}
	s, err := w.slugsOf(t, field, *ids)
	if err != nil {
		return err
	}
	*dst = s
	return nil
}

// apply sets a patch's fields on a document (a *XDoc of the patch's type).
func (w *writer) apply(doc any, patch any) error {
	switch p := patch.(type) {
	case *CompanyPatch:
		d := doc.(*CompanyDoc)
		set(&d.Slug, p.Slug)
		set(&d.Name, p.Name)
	case *FrameworkPatch:
		d := doc.(*FrameworkDoc)
		set(&d.Slug, p.Slug)
		set(&d.Name, p.Name)
		set(&d.Kind, p.Kind)
		set(&d.Language, p.Language)
		set(&d.Creator, p.Creator)
		if p.FirstReleased != nil {
			y := *p.FirstReleased
			d.FirstReleased = &y
		}
		if p.ClearFirstReleased {
			d.FirstReleased = nil
		}
		set(&d.Architecture, p.Architecture)
		set(&d.Summary, p.Summary)
		set(&d.Features, p.Features)
		return w.setRefs(&d.Companies, TypeCompany, "input.companies", p.Companies)
	case *TrendPatch:
		d := doc.(*TrendDoc)
		set(&d.Slug, p.Slug)
		set(&d.Rank, p.Rank)
		set(&d.Name, p.Name)
		set(&d.Category, p.Category)
		set(&d.Summary, p.Summary)
		set(&d.Body, p.Body)
		set(&d.Highlights, p.Highlights)
		set(&d.Examples, p.Examples)
		if err := w.setRefs(&d.Frameworks, TypeFramework, "input.frameworks", p.Frameworks); err != nil {
			return err
		}
		return w.setRefs(&d.Companies, TypeCompany, "input.companies", p.Companies)
	case *FAQPatch:
		d := doc.(*FAQDoc)
		set(&d.Slug, p.Slug)
		set(&d.Position, p.Position)
		set(&d.Question, p.Question)
		set(&d.Answer, p.Answer)
		set(&d.Items, p.Items)
		if err := w.setRefs(&d.Frameworks, TypeFramework, "input.frameworks", p.Frameworks); err != nil {
			return err
		}
		return w.setRefs(&d.Trends, TypeTrend, "input.trends", p.Trends)
	default:
		return fmt.Errorf("unknown patch %T", patch)
	}
	return nil
}

// newDoc returns an empty document of type t, with empty lists and DRAFT.
func newDoc(t TypeName) any {
	switch t {
	case TypeCompany:
		return &CompanyDoc{Status: StatusDraft}
	case TypeFramework:
		return &FrameworkDoc{Status: StatusDraft, Features: []string{}, Companies: []string{}}
	case TypeTrend:
		return &TrendDoc{Status: StatusDraft, Highlights: []string{}, Examples: []string{}, Frameworks: []string{}, Companies: []string{}}
	case TypeFAQ:
		return &FAQDoc{Status: StatusDraft, Items: []string{}, Frameworks: []string{}, Trends: []string{}}
	}
	return nil
}

// docFields returns the parts of a document that must be unique or that
// derive the slug.
func docFields(doc any) (slug *string, name string, num *int, numField string) {
	switch d := doc.(type) {
	case *CompanyDoc:
		return &d.Slug, d.Name, nil, ""
	case *FrameworkDoc:
		return &d.Slug, d.Name, nil, ""
	case *TrendDoc:
		return &d.Slug, d.Name, &d.Rank, "rank"
	case *FAQDoc:
		return &d.Slug, d.Question, &d.Position, "position"
	}
	return nil, "", nil, ""
}

func validateDoc(doc any, prefix string) error {
	var v validator
	switch d := doc.(type) {
	case *CompanyDoc:
		d.validate(&v, prefix)
	case *FrameworkDoc:
		d.validate(&v, prefix)
	case *TrendDoc:
		d.validate(&v, prefix)
	case *FAQDoc:
		d.validate(&v, prefix)
	}
	return v.err
}

// freeSlug derives a slug from name that no other item of type t holds:
// the slugified name, or it with -2, -3… appended.
func (w *writer) freeSlug(t TypeName, name string) (string, error) {
	base := Slugify(name)
	if base == "" {
		return "", Invalid("input.slug", "cannot derive a slug from %q: give one", truncate(name, 64))
	}
	for i := 1; i < 1000; i++ {
		s := base
		if i > 1 {
			s = base + "-" + strconv.Itoa(i)
		}
		id, err := w.idOf(t, s)
		if err != nil {
			return "", err
		}
		if id == 0 {
			return s, nil
		}
	}
	return "", Invalid("input.slug", "no free slug for %q: give one", truncate(name, 64))
}

// create makes a new DRAFT item from a patch and returns its row id.
func (d *DB) create(ctx context.Context, t TypeName, patch any) (int64, error) {
	var id int64
	err := d.writeTx(ctx, func(w *writer) error {
		doc := newDoc(t)
		if err := w.apply(doc, patch); err != nil {
			return err
		}
		slug, name, _, _ := docFields(doc)
		// A blank name is reported as the name's fault, not the slug's.
		if *slug == "" && strings.TrimSpace(name) != "" {
			s, err := w.freeSlug(t, name)
			if err != nil {
				return err
			}
			*slug = s
		}
		if err := validateDoc(doc, "input."); err != nil {
			return err
		}
		var err error
		id, err = w.put(t, 0, nil, doc, ActionCreate)
		return err
	})
	return id, err
}

// checkVersion fails with ECONFLICT when ifVersion is given and stale.
func checkVersion(t TypeName, m itemMeta, ifVersion *int) error {
	if ifVersion != nil && *ifVersion != m.version {
		return &Error{Code: ECONFLICT, Field: "ifVersion",
			Message: fmt.Sprintf("%s %s is at version %d, not %d: reload it and retry", t, EncodeID(t, m.id), m.version, *ifVersion)}
	}
	return nil
}

// change loads an item, lets edit change its document, validates and
// writes it with action. An edit that changes nothing writes nothing.
func (d *DB) change(ctx context.Context, t TypeName, id int64, ifVersion *int, action string, edit func(w *writer, doc any) error) error {
	return d.writeTx(ctx, func(w *writer) error {
		old, m, err := w.loadDoc(t, id)
		if err != nil {
			return err
		}
		if err := checkVersion(t, m, ifVersion); err != nil {
			return err
		}
		doc := cloneDoc(old)
		if err := edit(w, doc); err != nil {
			return err
		}
		if sameDoc(old, doc) {
			return nil
		}
		if err := validateDoc(doc, "input."); err != nil {
			return err
		}
		return w.edit(t, m, old, doc, action)
	})
}

// edit writes an edited document: a published item's draft, or a draft
// item in place.
func (w *writer) edit(t TypeName, m itemMeta, old, doc any, action string) error {
	if m.status == StatusPublished {
		return w.putDraft(t, m, old, doc, action, putOpts{})
	}
	_, err := w.put(t, m.id, old, doc, action)
	return err
}

func cloneDoc(doc any) any {
	b, _ := json.Marshal(doc)
	out := newDoc(docType(doc))
	json.Unmarshal(b, out)
	return out
}

func docType(doc any) TypeName {
	switch doc.(type) {
	case *CompanyDoc:
		return TypeCompany
	case *FrameworkDoc:
		return TypeFramework
	case *TrendDoc:
		return TypeTrend
	case *FAQDoc:
		return TypeFAQ
	}
	return ""
}

// createThen creates an item and reads it back as the caller sees it.
func createThen[T any](ctx context.Context, d *DB, t TypeName, patch any, get func(context.Context, int64) (T, error)) (T, error) {
	id, err := d.create(ctx, t, patch)
	if err != nil {
		var zero T
		return zero, err
	}
	return get(WithPreview(seeDrafts(ctx)), id)
}

// updateThen updates an item and reads it back as the caller sees it.
func updateThen[T any](ctx context.Context, d *DB, t TypeName, id int64, patch any, ifVersion *int, get func(context.Context, int64) (T, error)) (T, error) {
	if err := d.update(ctx, t, id, patch, ifVersion); err != nil {
		var zero T
		return zero, err
	}
	// The caller reads what it wrote: a published item's draft.
	return get(WithPreview(seeDrafts(ctx)), id)
}

// seeDrafts lets a writer read back what it wrote, drafts included, when
// its context carries no principal (the command line, tests): whoever may
// write an item may see it.
func seeDrafts(ctx context.Context) context.Context {
	if PrincipalFrom(ctx) != nil {
		return ctx
	}
	return WithPrincipal(ctx, &Principal{Name: "cli", Role: RoleViewer})
}

// update applies a patch to an existing item.
func (d *DB) update(ctx context.Context, t TypeName, id int64, patch any, ifVersion *int) error {
	return d.change(ctx, t, id, ifVersion, ActionUpdate, func(w *writer, doc any) error {
		return w.apply(doc, patch)
	})
}

// CreateCompany creates a DRAFT company; the slug derives from the name
// when not given. EINVALID for bad or duplicate fields.
func (d *DB) CreateCompany(ctx context.Context, p CompanyPatch) (*Company, error) {
	return createThen(ctx, d, TypeCompany, &p, d.Company)
}

// UpdateCompany sets the given fields. ENOTFOUND, EINVALID, ECONFLICT.
func (d *DB) UpdateCompany(ctx context.Context, id int64, p CompanyPatch, ifVersion *int) (*Company, error) {
	return updateThen(ctx, d, TypeCompany, id, &p, ifVersion, d.Company)
}

// CreateFramework creates a DRAFT framework. EINVALID for bad fields.
func (d *DB) CreateFramework(ctx context.Context, p FrameworkPatch) (*Framework, error) {
	return createThen(ctx, d, TypeFramework, &p, d.Framework)
}

// UpdateFramework sets the given fields. ENOTFOUND, EINVALID, ECONFLICT.
func (d *DB) UpdateFramework(ctx context.Context, id int64, p FrameworkPatch, ifVersion *int) (*Framework, error) {
	return updateThen(ctx, d, TypeFramework, id, &p, ifVersion, d.Framework)
}

// CreateTrend creates a DRAFT trend. EINVALID for bad fields, a rank or
// slug another trend holds.
func (d *DB) CreateTrend(ctx context.Context, p TrendPatch) (*Trend, error) {
	return createThen(ctx, d, TypeTrend, &p, d.Trend)
}

// UpdateTrend sets the given fields. ENOTFOUND, EINVALID, ECONFLICT.
func (d *DB) UpdateTrend(ctx context.Context, id int64, p TrendPatch, ifVersion *int) (*Trend, error) {
	return updateThen(ctx, d, TypeTrend, id, &p, ifVersion, d.Trend)
}

// CreateFAQ creates a DRAFT FAQ. EINVALID for bad fields.
func (d *DB) CreateFAQ(ctx context.Context, p FAQPatch) (*FAQ, error) {
	return createThen(ctx, d, TypeFAQ, &p, d.FAQ)
}

// UpdateFAQ sets the given fields. ENOTFOUND, EINVALID, ECONFLICT.
func (d *DB) UpdateFAQ(ctx context.Context, id int64, p FAQPatch, ifVersion *int) (*FAQ, error) {
	return updateThen(ctx, d, TypeFAQ, id, &p, ifVersion, d.FAQ)
}

// Delete removes an item and its links, and returns the id of the event
// that records it (its document is the item as it was). ENOTFOUND,
// ECONFLICT.
func (d *DB) Delete(ctx context.Context, t TypeName, id int64, ifVersion *int) (int64, error) {
	var eventID int64
	err := d.writeTx(ctx, func(w *writer) error {
		old, m, err := w.loadDoc(t, id)
		if err != nil {
			return err
		}
		if err := checkVersion(t, m, ifVersion); err != nil {
			return err
		}
		var live any
		if m.drafted {
			if live, err = w.loadLiveDoc(t, id, m); err != nil {
				return err
			}
		}
		if err := w.unlinkFromOwners(t, m, id); err != nil {
			return err
		}
		floor, err := w.versionFloor(t, m)
		if err != nil {
			return err
		}
		// The draft and its links go with the row (ON DELETE CASCADE).
		if _, err := w.exec("DELETE FROM "+tableOf[t]+" WHERE id = ?", id); err != nil {
			return err
		}
		// A deleted item holds no value: one it had parked is free.
		w.tx.unpark(t, id)
		slug, _, _, _ := docFields(old)
		var changed any = []string{}
		if live != nil {
			// Anonymous callers learn of the deletion of the live version,
			// never of the draft's content.
			changed = changedSince{old: old, draft: true, publicOld: live, publicNew: live}
		}
		eventID, err = w.tx.event(t, id, *slug, ActionDelete, floor+1, m.status, changed, old)
		return err
	})
	return eventID, err
}

// ownerLinks are the editable relations with the link table of each.
var ownerLinks = []struct {
	rel  Relation
	link link
}{
	{RelFrameworkCompany, linkFrameworkCompanies},
	{RelTrendCompany, linkTrendCompanies},
	{RelTrendFramework, linkTrendFrameworks},
	{RelFAQFramework, linkFAQFrameworks},
	{RelFAQTrend, linkFAQTrends},
}

// ownersOf returns the items on l's owning side that list item id, in
// id order.
func (w *writer) ownersOf(l link, id int64) ([]int64, error) {
	rows, err := w.tx.query("SELECT "+l.from+" FROM "+l.table+" WHERE "+l.to+" = ? UNION SELECT "+l.from+" FROM "+l.table+"_drafts WHERE "+l.to+" = ? ORDER BY 1", id, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var owners []int64
	for rows.Next() {
		var o int64
		if err := rows.Scan(&o); err != nil {
			return nil, err
		}
		owners = append(owners, o)
	}
	return owners, rows.Err()
}

// unlinkFromOwners removes a soon-deleted item from the documents of the
// items that list it (the frameworks that name a company, say), each as
// an UNLINK change of its own: their versions go up and their events tell
// caches, subscribers and webhooks that they changed too.
//
// A published owner with a draft may list the item in its live version,
// its draft, or both: one UNLINK records both (the draft loses the item,
// and the live version too, as the deletion's cascade does).
func (w *writer) unlinkFromOwners(t TypeName, m itemMeta, id int64) error {
	drop := func(doc any, slug string) (any, bool) {
		out := cloneDoc(doc)
		l := refList(out, t)
		n := len(*l)
		*l = slices.DeleteFunc(*l, func(s string) bool { return s == slug })
		return out, len(*l) != n
	}
	for _, ol := range ownerLinks {
		rel, l := ol.rel, ol.link
		if rel.Other != t {
			continue
		}
		owners, err := w.ownersOf(l, id)
		if err != nil {
			return err
		}
		for _, o := range owners {
			old, om, err := w.loadDoc(rel.Owner, o)
			if err != nil {
				return err
			}
			doc, _ := drop(old, m.slug)
			if !om.drafted {
				floor, err := w.versionFloor(rel.Owner, om)
				if err != nil {
					return err
				}
				if _, err := w.putWith(rel.Owner, o, old, doc, ActionUnlink, putOpts{floor: floor}); err != nil {
					return err
				}
				continue
			}
			live, err := w.loadLiveDoc(rel.Owner, o, om)
			if err != nil {
				return err
			}
			var opts putOpts
			if liveNew, changed := drop(live, m.slug); changed {
				opts.liveOld, opts.liveNew = live, liveNew
			}
			if err := w.putDraft(rel.Owner, om, old, doc, ActionUnlink, opts); err != nil {
				return err
			}
		}
	}
	return nil
}

// NodeByID returns the visible item of type t with the given row id;
// ENOTFOUND if none.
func (d *DB) NodeByID(ctx context.Context, t TypeName, id int64) (Node, error) {
	switch t {
	case TypeTrend:
		return d.Trend(ctx, id)
	case TypeFramework:
		return d.Framework(ctx, id)
	case TypeCompany:
		return d.Company(ctx, id)
	case TypeFAQ:
		return d.FAQ(ctx, id)
	}
	return nil, Errorf(ENOTFOUND, "no %s items", t)
}

// SetStatus publishes or unpublishes an item (see Publish and
// Unpublish).
func (d *DB) SetStatus(ctx context.Context, t TypeName, id int64, s Status, ifVersion *int) error {
	if s == StatusDraft {
		return d.Unpublish(ctx, t, id, ifVersion)
	}
	return d.Publish(ctx, t, id, ifVersion)
}

// Relation names an editable many-to-many relation: its owner (whose
// document lists the other side) and the other side.
type Relation struct {
	Owner, Other TypeName
	OwnerArg     string // argument names, for errors
	OtherArg     string
}

// The editable relations.
var (
	RelFrameworkCompany = Relation{TypeFramework, TypeCompany, "frameworkId", "companyId"}
	RelTrendCompany     = Relation{TypeTrend, TypeCompany, "trendId", "companyId"}
	RelTrendFramework   = Relation{TypeTrend, TypeFramework, "trendId", "frameworkId"}
	RelFAQFramework     = Relation{TypeFAQ, TypeFramework, "faqId", "frameworkId"}
	RelFAQTrend         = Relation{TypeFAQ, TypeTrend, "faqId", "trendId"}
)

// refList returns the owner document's list of other-side slugs.
func refList(doc any, other TypeName) *[]string { return refLists(doc)[other] }

// Link adds (link true) or removes a relation between two items, appended
// at the end of the owner's list. Linking linked items or unlinking
// unlinked ones changes nothing. ENOTFOUND for the owner, EINVALID for an
// unknown other side.
func (d *DB) Link(ctx context.Context, rel Relation, ownerID, otherID int64, link bool) error {
	action := ActionLink
	if !link {
		action = ActionUnlink
	}
	return d.change(ctx, rel.Owner, ownerID, nil, action, func(w *writer, doc any) error {
		m, err := w.meta(rel.Other, otherID)
		if IsNotFound(err) {
			return Invalid(rel.OtherArg, "no %s with id %s", rel.Other, EncodeID(rel.Other, otherID))
		}
		if err != nil {
			return err
		}
		l := refList(doc, rel.Other)
		i := slices.Index(*l, m.slug)
		switch {
		case link && i < 0:
			*l = append(*l, m.slug)
		case !link && i >= 0:
			*l = slices.Delete(*l, i, i+1)
		}
		return nil
	})
}

// Restore brings back an item's document as it was after revision
// eventID, as a new version (the status stays as it is now; relations to
// items that no longer exist are dropped). A deleted item is created
// again under its own id, as a DRAFT, its version going on from the one
// its deletion recorded. It returns the item's type and row id. ENOTFOUND for
// an unknown revision, ECONFLICT for a stale ifVersion, EINVALID when the
// old rank, position or slug is now taken by another item.
func (d *DB) Restore(ctx context.Context, eventID int64, ifVersion *int) (TypeName, int64, error) {
	e, err := d.Event(ctx, eventID)
	if err != nil {
		return "", 0, err
	}
	if e.Type == TypeArticle || e.Action == ActionDelete {
		return "", 0, Invalid("revisionId", "revision %d cannot be restored: it is a deletion or an article change", eventID)
	}
	restored := newDoc(e.Type)
	if err := json.Unmarshal(e.Document, restored); err != nil {
		return "", 0, fmt.Errorf("restore: %w", err)
	}
	id := e.ItemID
	err = d.writeTx(ctx, func(w *writer) error {
		w.restoring = eventID
		if err := w.dropMissingRefs(restored); err != nil {
			return err
		}
		old, m, err := w.loadDoc(e.Type, id)
		if IsNotFound(err) {
			// Deleted: it comes back under its own id (ids are never
			// reused), as a DRAFT, at the version after its deletion.
			if ifVersion != nil {
				var last int
				if err := w.queryRow("SELECT coalesce(max(version), 0) FROM events WHERE type = ? AND item_id = ?", string(e.Type), id).Scan(&last); err != nil {
					return err
				}
				if err := checkVersion(e.Type, itemMeta{id: id, version: last}, ifVersion); err != nil {
					return err
				}
			}
			setStatus(restored, StatusDraft)
			_, err = w.put(e.Type, id, nil, restored, ActionRestore)
			return err
		}
		if err != nil {
			return err
		}
		if err := checkVersion(e.Type, m, ifVersion); err != nil {
			return err
		}
		setStatus(restored, m.status)
		if sameDoc(old, restored) {
			return nil
		}
		return w.edit(e.Type, m, old, restored, ActionRestore)
	})
	return e.Type, id, err
}

// restoreConflict names the argument at fault when a restored document's
// slug, rank or position is now another item's: the caller sent no
// "input.rank", only the revision.
func restoreConflict(eventID int64, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code == EINVALID {
		return Invalid("revisionId", "revision %d cannot be restored: its %s", eventID, e.Message)
	}
	return err
}

func setStatus(doc any, s Status) {
	switch d := doc.(type) {
	case *CompanyDoc:
		d.Status = s
	case *FrameworkDoc:
		d.Status = s
	case *TrendDoc:
		d.Status = s
	case *FAQDoc:
		d.Status = s
	}
}

// refLists returns a document's relation lists with the type each names.
func refLists(doc any) map[TypeName]*[]string {
	switch d := doc.(type) {
	case *FrameworkDoc:
		return map[TypeName]*[]string{TypeCompany: &d.Companies}
	case *TrendDoc:
		return map[TypeName]*[]string{TypeFramework: &d.Frameworks, TypeCompany: &d.Companies}
	case *FAQDoc:
		return map[TypeName]*[]string{TypeFramework: &d.Frameworks, TypeTrend: &d.Trends}
	}
	return nil
}

// dropMissingRefs removes from a document the slugs of items that no
// longer exist.
func (w *writer) dropMissingRefs(doc any) error {
	for t, l := range refLists(doc) {
		kept := []string{}
		for _, s := range *l {
			id, err := w.idOf(t, s)
			if err != nil {
				return err
			}
			if id != 0 {
				kept = append(kept, s)
			}
		}
		*l = kept
	}
	return nil
}
