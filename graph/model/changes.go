package model

import "github.com/trendql/trendql/db"

// ContentChange is one event of the log as the changes feed and the
// subscriptions present it.
type ContentChange struct {
	Revision *db.Event `json:"revision"`
}

// Cursor resumes the feed after this change.
func (c *ContentChange) Cursor() string { return db.EncodeChangeCursor(c.Revision.ID) }

// Action is what the change did.
func (c *ContentChange) Action() RevisionAction { return RevisionAction(c.Revision.Action) }

// TransactionID names the transaction that made the change.
func (c *ContentChange) TransactionID() string { return c.Revision.TransactionID() }

// ItemType names the changed item's type.
func (c *ContentChange) ItemType() string { return string(c.Revision.Type) }

// ItemID is the changed item's global id; nil for the article.
func (c *ContentChange) ItemID() *string {
	if !c.Revision.Type.Content() {
		return nil
	}
	id := c.Revision.ItemGlobalID()
	return &id
}

// ChangeFeed is a page of the changes feed.
type ChangeFeed struct {
	Changes []*ContentChange `json:"changes"`
	Cursor  string           `json:"cursor"`
	HasMore bool             `json:"hasMore"`
}
