package graph

import (
	"context"
	"errors"

	"github.com/trendql/trendql/db"
	"github.com/trendql/trendql/graph/model"
	"github.com/vikstrous/dataloadgen"
)

// Conversions between the webhook API's GraphQL shapes and the db's.

func typesOf(in []db.TypeName) *[]db.TypeName {
	out := append([]db.TypeName{}, in...)
	return &out
}

func actionsOf(in []model.RevisionAction) *[]string {
	out := []string{}
	for _, a := range in {
		out = append(out, string(a))
	}
	return &out
}

func webhookCreate(in model.CreateWebhookInput) db.WebhookInput {
	w := db.WebhookInput{URL: &in.URL, Secret: in.Secret, IncludeDrafts: in.IncludeDrafts, Active: in.Active}
	if in.Types != nil {
		w.Types = typesOf(in.Types)
	}
	if in.Actions != nil {
		w.Actions = actionsOf(in.Actions)
	}
	return w
}

func webhookUpdate(in model.UpdateWebhookInput) (db.WebhookInput, error) {
	var w db.WebhookInput
	var errs [4]error
	w.URL, errs[0] = required("input.url", in.URL)
	w.Secret, errs[1] = required("input.secret", in.Secret)
	w.IncludeDrafts, errs[2] = required("input.includeDrafts", in.IncludeDrafts)
	w.Active, errs[3] = required("input.active", in.Active)
	if v, set := in.Types.ValueOK(); set {
		w.Types = typesOf(v)
	}
	if v, set := in.Actions.ValueOK(); set {
		w.Actions = actionsOf(v)
	}
	return w, firstErr(errs[:]...)
}

// withSecret shows a webhook's secret, once.
func withSecret(w *db.Webhook, err error) (*model.WebhookWithSecret, error) {
	if err != nil {
		return nil, err
	}
	return &model.WebhookWithSecret{Webhook: w, Secret: w.Secret}, nil
}

// optional turns ENOTFOUND into null, for nullable lookups.
func optional[T any](v *T, err error) (*T, error) {
	if db.IsNotFound(err) {
		return nil, nil
	}
	return v, err
}

func deliveries(ctx context.Context, d *db.DB, webhookID int64, first *int, after *string, status *db.DeliveryStatus) (*model.WebhookDeliveryConnection, error) {
	page, err := d.Deliveries(ctx, webhookID, status, db.PageArgs{First: first, After: after})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(page.Items))
	var events []int64
	for i, x := range page.Items {
		ids[i] = x.ID
		if x.EventID != nil {
			events = append(events, *x.EventID)
		}
	}
	// One statement each for the page's events and attempts, if asked for.
	l := loadersFrom(ctx)
	if selects(ctx, "nodes", "event") || selects(ctx, "edges", "node", "event") {
		l.Event.LoadAllThunk(ctx, events)
	}
	if selects(ctx, "nodes", "attemptLog") || selects(ctx, "edges", "node", "attemptLog") {
		l.AttemptsOfDelivery.LoadAllThunk(ctx, ids)
	}
	return &model.WebhookDeliveryConnection{Page: page, Count: func(ctx context.Context) (int, error) {
		return d.CountDeliveries(ctx, webhookID, status)
	}}, nil
}

func deliveryEvent(ctx context.Context, x *db.WebhookDelivery) (*db.Event, error) {
	if x.EventID == nil {
		return nil, nil
	}
	e, err := loadersFrom(ctx).Event.Load(ctx, *x.EventID)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, nil
	}
	return e, err
}
