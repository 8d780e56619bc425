package graph

import (
	"log/slog"
	"time"

	"github.com/trendql/trendql/db"
)

// Resolver is the root of the GraphQL resolvers: thin functions from
// arguments to db calls. It holds no request state; per-request values
// (principal, dataloaders) travel in the context.
type Resolver struct {
	DB *db.DB
	// Logger receives what goes wrong outside a request's own errors (a
	// subscription's feed failing, say); nil discards it.
	Logger *slog.Logger

	metrics      *Metrics
	tokenRecheck time.Duration
	tail         *logTail // the event log, read once per commit for all subscriptions
}
