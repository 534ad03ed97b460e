package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testComments(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "d"}))
	_, err := ws.AddComment(ctx, p, "BAL-1", "  ")
	if trellis.ErrorField(err) != "body" {
		t.Fatalf("empty comment: %v", err)
	}
	c := must[*work.Comment](t)(ws.AddComment(ctx, p, "BAL-1", "Looks good. @bob please review; @eve is not here; mail ada@example.org; @ada noted."))
	if fmt.Sprint(c.Mentions) != "[bob ada]" {
		t.Fatalf("mentions %v", c.Mentions)
	}
	cs := must[[]*work.Comment](t)(ws.Comments(ctx, p, "BAL-1"))
	if len(cs) != 1 || cs[0].Author != "ada" {
		t.Fatalf("comments %+v", cs)
	}
	bob := must[*auth.User](t)(db.FindUserByName(context.Background(), "bob"))
	bctx := As(context.Background(), bob)
	inbox := must[[]*work.Notification](t)(ws.Inbox(bctx))
	if len(inbox) != 1 || inbox[0].Item != "BAL-1" || inbox[0].Actor != "ada" || inbox[0].Read {
		t.Fatalf("bob's inbox %+v", inbox)
	}
	if own := must[[]*work.Notification](t)(ws.Inbox(ctx)); len(own) != 0 {
		t.Fatalf("the author was notified of her own mention: %+v", own)
	}
	if err := ws.MarkInboxRead(bctx); err != nil {
		t.Fatal(err)
	}
	if inbox := must[[]*work.Notification](t)(ws.Inbox(bctx)); !inbox[0].Read {
		t.Fatal("mark read did not stick")
	}
	feed := must[[]*work.Activity](t)(ws.ActivityFeed(ctx, p, 10))
	if len(feed) != 2 || feed[0].Field != "comment" || feed[0].Item != "BAL-1" || feed[1].Field != "created" {
		t.Fatalf("feed %+v", feed)
	}
}
