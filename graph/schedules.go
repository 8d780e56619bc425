package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph/model"
	"github.com/vikstrous/dataloadgen"
)

// scheduleLoader loads the pending schedules of one content type's items,
// by row id; an item without any gets an empty Schedule.
type scheduleLoader struct {
	*dataloadgen.Loader[int64, *db.Schedule]
	fetch func(context.Context, []int64) (map[int64]*db.Schedule, error)
}

func newScheduleLoader(d *db.DB, t db.TypeName, opts []dataloadgen.Option) *scheduleLoader {
	fetch := func(ctx context.Context, ids []int64) (map[int64]*db.Schedule, error) {
		keys := make([]db.ItemKey, len(ids))
		for i, id := range ids {
			keys[i] = db.ItemKey{Type: t, ID: id}
		}
		m, err := d.SchedulesOf(ctx, keys)
		if err != nil {
			return nil, err
		}
		out := make(map[int64]*db.Schedule, len(ids))
		for _, id := range ids {
			s := m[db.ItemKey{Type: t, ID: id}]
			if s == nil {
				s = &db.Schedule{}
			}
			out[id] = s
		}
		return out, nil
	}
	return &scheduleLoader{Loader: dataloadgen.NewMappedLoader(fetch, opts...), fetch: fetch}
}

// scheduleOf returns an item's pending schedule. Like a relation, the
// first item of a page to ask fetches the schedules of the whole page in
// one statement. Callers without a token get an empty one (db.SchedulesOf).
func scheduleOf(ctx context.Context, t db.TypeName, item db.Node) (*db.Schedule, error) {
	l := loadersFrom(ctx).Schedules[t]
	primeSiblings(ctx, l, item, l.fetch, l.Prime)
	return l.Load(ctx, rowID(item))
}

func publishAt(ctx context.Context, t db.TypeName, item db.Node) (*string, error) {
	s, err := scheduleOf(ctx, t, item)
	if err != nil {
		return nil, err
	}
	return s.PublishAt, nil
}

func unpublishAt(ctx context.Context, t db.TypeName, item db.Node) (*string, error) {
	s, err := scheduleOf(ctx, t, item)
	if err != nil {
		return nil, err
	}
	return s.UnpublishAt, nil
}

// scheduleChange turns one field of a ScheduleInput into a db change: left
// out keeps, null clears, a time sets. A time that is not RFC 3339 is
// BAD_USER_INPUT on field.
func scheduleChange(field string, o graphql.Omittable[*string]) (db.ScheduleChange, error) {
	v, set := o.ValueOK()
	if !set {
		return db.ScheduleChange{}, nil
	}
	if v == nil {
		return db.ScheduleChange{Set: true}, nil
	}
	at, err := time.Parse(time.RFC3339Nano, *v)
	if err != nil {
		return db.ScheduleChange{}, db.Invalid(field, "%q is not an RFC 3339 time such as 2026-12-24T08:00:00Z", truncated(*v, 64))
	}
	return db.ScheduleChange{Set: true, At: &at}, nil
}

func truncated(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// schedule sets or clears an item's schedules and returns the item as the
// caller sees it.
func (r *mutationResolver) schedule(ctx context.Context, id string, in model.ScheduleInput) (db.Node, error) {
	t, n, err := db.DecodeID("id", id)
	if err != nil {
		return nil, err
	}
	if !t.Content() {
		return nil, db.Invalid("id", "%q is not a content item's id", id)
	}
	pub, err := scheduleChange("input.publishAt", in.PublishAt)
	if err != nil {
		return nil, err
	}
	unpub, err := scheduleChange("input.unpublishAt", in.UnpublishAt)
	if err != nil {
		return nil, err
	}
	if err := r.DB.SetSchedule(ctx, t, n, pub, unpub); err != nil {
		return nil, err
	}
	return r.DB.NodeByID(ctx, t, n)
}

// scheduleLog lists the schedule log.
func (r *queryResolver) scheduleLog(ctx context.Context, itemID *string, outcomes []model.ScheduleOutcome, first *int) ([]*db.ScheduleLogEntry, error) {
	var f db.ScheduleLogFilter
	if itemID != nil {
		t, n, err := db.DecodeID("itemId", *itemID)
		if err != nil {
			return nil, err
		}
		if !t.Content() {
			return nil, db.Invalid("itemId", "%q is not a content item's id", *itemID)
		}
		f.Item = &db.ItemKey{Type: t, ID: n}
	}
	for _, o := range outcomes {
		f.Outcomes = append(f.Outcomes, string(o))
	}
	size := 20
	if first != nil {
		size = *first
	}
	return r.DB.ScheduleLog(ctx, f, size)
}
