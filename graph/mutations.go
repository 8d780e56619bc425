package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph/model"
)

// Conversions from GraphQL mutation inputs to db patches. An omitted field
// leaves the item as it is; null clears an optional field and is refused
// for a required one.

func ids(field string, t db.TypeName, in []string) (*[]int64, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]int64, len(in))
	for i, id := range in {
		n, err := db.DecodeIDOf(field, t, id)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return &out, nil
}

func list(in []string) *[]string {
	if in == nil {
		return nil
	}
	return &in
}

// required returns an omittable's value; explicit null is bad input.
func required[T any](field string, o graphql.Omittable[*T]) (*T, error) {
	v, set := o.ValueOK()
	if !set {
		return nil, nil
	}
	if v == nil {
		return nil, db.Invalid(field, "%s cannot be null", field)
	}
	return v, nil
}

// clearable returns an omittable string; explicit null clears it.
func clearable(o graphql.Omittable[*string]) *string {
	v, set := o.ValueOK()
	switch {
	case !set:
		return nil
	case v == nil:
		empty := ""
		return &empty
	}
	return v
}

// listOf returns an omittable list; explicit null empties it.
func listOf(o graphql.Omittable[[]string]) *[]string {
	v, set := o.ValueOK()
	if !set {
		return nil
	}
	if v == nil {
		v = []string{}
	}
	return &v
}

func idsOf(field string, t db.TypeName, o graphql.Omittable[[]string]) (*[]int64, error) {
	v, set := o.ValueOK()
	if !set {
		return nil, nil
	}
	if v == nil {
		v = []string{}
	}
	return ids(field, t, v)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func trendCreate(in model.CreateTrendInput) (db.TrendPatch, error) {
	p := db.TrendPatch{Slug: in.Slug, Rank: &in.Rank, Name: &in.Name, Category: &in.Category, Summary: in.Summary,
		Body: in.Body, Highlights: list(in.Highlights), Examples: list(in.Examples)}
	var e1, e2 error
	p.Frameworks, e1 = ids("input.frameworks", db.TypeFramework, in.Frameworks)
	p.Companies, e2 = ids("input.companies", db.TypeCompany, in.Companies)
	return p, firstErr(e1, e2)
}

func trendUpdate(in model.UpdateTrendInput) (db.TrendPatch, error) {
	var p db.TrendPatch
	var errs [6]error
	p.Slug, errs[0] = required("input.slug", in.Slug)
	p.Rank, errs[1] = required("input.rank", in.Rank)
	p.Name, errs[2] = required("input.name", in.Name)
	p.Category, errs[3] = required("input.category", in.Category)
	p.Summary, p.Body = clearable(in.Summary), clearable(in.Body)
	p.Highlights, p.Examples = listOf(in.Highlights), listOf(in.Examples)
	p.Frameworks, errs[4] = idsOf("input.frameworks", db.TypeFramework, in.Frameworks)
	p.Companies, errs[5] = idsOf("input.companies", db.TypeCompany, in.Companies)
	return p, firstErr(errs[:]...)
}

func frameworkCreate(in model.CreateFrameworkInput) (db.FrameworkPatch, error) {
	p := db.FrameworkPatch{Slug: in.Slug, Name: &in.Name, Kind: &in.Kind, Language: in.Language, Creator: in.Creator,
		FirstReleased: in.FirstReleased, Architecture: in.Architecture, Summary: in.Summary, Features: list(in.Features)}
	var err error
	p.Companies, err = ids("input.companies", db.TypeCompany, in.Companies)
	return p, err
}

func frameworkUpdate(in model.UpdateFrameworkInput) (db.FrameworkPatch, error) {
	var p db.FrameworkPatch
	var errs [4]error
	p.Slug, errs[0] = required("input.slug", in.Slug)
	p.Name, errs[1] = required("input.name", in.Name)
	p.Kind, errs[2] = required("input.kind", in.Kind)
	p.Language, p.Creator, p.Architecture = clearable(in.Language), clearable(in.Creator), clearable(in.Architecture)
	if y, set := in.FirstReleased.ValueOK(); set {
		p.FirstReleased, p.ClearFirstReleased = y, y == nil
	}
	p.Summary = clearable(in.Summary)
	p.Features = listOf(in.Features)
	p.Companies, errs[3] = idsOf("input.companies", db.TypeCompany, in.Companies)
	return p, firstErr(errs[:]...)
}

func companyUpdate(in model.UpdateCompanyInput) (db.CompanyPatch, error) {
	var p db.CompanyPatch
	var e1, e2 error
	p.Slug, e1 = required("input.slug", in.Slug)
	p.Name, e2 = required("input.name", in.Name)
	return p, firstErr(e1, e2)
}

func faqCreate(in model.CreateFAQInput) (db.FAQPatch, error) {
	p := db.FAQPatch{Slug: in.Slug, Position: &in.Position, Question: &in.Question, Answer: in.Answer, Items: list(in.Items)}
	var e1, e2 error
	p.Frameworks, e1 = ids("input.frameworks", db.TypeFramework, in.Frameworks)
	p.Trends, e2 = ids("input.trends", db.TypeTrend, in.Trends)
	return p, firstErr(e1, e2)
}

func faqUpdate(in model.UpdateFAQInput) (db.FAQPatch, error) {
	var p db.FAQPatch
	var errs [5]error
	p.Slug, errs[0] = required("input.slug", in.Slug)
	p.Position, errs[1] = required("input.position", in.Position)
	p.Question, errs[2] = required("input.question", in.Question)
	p.Answer = clearable(in.Answer)
	p.Items = listOf(in.Items)
	p.Frameworks, errs[3] = idsOf("input.frameworks", db.TypeFramework, in.Frameworks)
	p.Trends, errs[4] = idsOf("input.trends", db.TypeTrend, in.Trends)
	return p, firstErr(errs[:]...)
}

// deleted runs a delete and reports it with its revision.
func (r *mutationResolver) deleted(ctx context.Context, t db.TypeName, id string, ifVersion *int) (*model.DeletePayload, error) {
	n, err := db.DecodeIDOf("id", t, id)
	if err != nil {
		return nil, err
	}
	rev, err := r.DB.Delete(ctx, t, n, ifVersion)
	if err != nil {
		return nil, err
	}
	rid := db.EncodeID(db.TypeRevision, rev)
	return &model.DeletePayload{DeletedID: id, ID: id, RevisionID: &rid}, nil
}

// link runs a link or unlink and returns the owner as the caller sees it.
func (r *mutationResolver) link(ctx context.Context, rel db.Relation, ownerID, otherID string, on bool) (db.Node, error) {
	owner, err := db.DecodeIDOf(rel.OwnerArg, rel.Owner, ownerID)
	if err != nil {
		return nil, err
	}
	other, err := db.DecodeIDOf(rel.OtherArg, rel.Other, otherID)
	if err != nil {
		return nil, err
	}
	if err := r.DB.Link(ctx, rel, owner, other, on); err != nil {
		return nil, err
	}
	return r.DB.NodeByID(ctx, rel.Owner, owner)
}

// setStatus publishes or unpublishes any node, and drops the schedules
// that doing it by hand overtakes (db.SettleSchedules).
func (r *mutationResolver) setStatus(ctx context.Context, id string, s db.Status, ifVersion *int) (db.Node, error) {
	t, n, err := db.DecodeID("id", id)
	if err != nil {
		return nil, err
	}
	if !t.Content() {
		return nil, db.Invalid("id", "%q is not a content item's id", id)
	}
	if err := r.DB.SetStatus(ctx, t, n, s, ifVersion); err != nil {
		return nil, err
	}
	if err := r.DB.SettleSchedules(ctx, t, n, s); err != nil {
		return nil, err
	}
	return r.DB.NodeByID(ctx, t, n)
}

func revisions(ctx context.Context, d *db.DB, t db.TypeName, id int64, first *int, after *string) (*model.RevisionConnection, error) {
	page, err := d.Revisions(ctx, t, id, db.PageArgs{First: first, After: after})
	if err != nil {
		return nil, err
	}
	return &model.RevisionConnection{Page: page, Count: func(ctx context.Context) (int, error) { return d.CountRevisions(ctx, t, id) }}, nil
}

// as narrows a node to the owner type a link mutation returns.
func as[T db.Node](n db.Node, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	v, _ := n.(T)
	return v, nil
}

func auditFilter(in *model.AuditFilter) (db.EventFilter, error) {
	var f db.EventFilter
	if in == nil {
		return f, nil
	}
	f.Types = in.Types
	if in.ItemID != nil {
		t, n, err := db.DecodeID("filter.itemId", *in.ItemID)
		if err != nil {
			return f, err
		}
		if !t.Content() {
			return f, db.Invalid("filter.itemId", "%q is not a content item's id", *in.ItemID)
		}
		f.ItemType, f.ItemID = t, &n
	}
	for _, a := range in.Actions {
		f.Actions = append(f.Actions, string(a))
	}
	if in.TokenID != nil {
		n, err := db.DecodeIDOf("filter.tokenId", db.TypeToken, *in.TokenID)
		if err != nil {
			return f, err
		}
		f.TokenID = &n
	}
	f.Since = in.Since
	return f, nil
}
