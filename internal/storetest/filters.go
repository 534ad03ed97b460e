package storetest

import (
	"context"
	"testing"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testSavedFilters(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	f := must[work.SavedFilter](t)(ws.SaveFilter(ctx, p, work.SavedFilter{Name: "My experiments", Query: "?kind=experiment&assignee=ada&junk=1"}))
	if f.Query != "assignee=ada&kind=experiment" {
		t.Fatalf("saved query %q", f.Query)
	}
	must[work.SavedFilter](t)(ws.SaveFilter(ctx, p, work.SavedFilter{Name: "My experiments", Query: "label=data"}))
	for _, bad := range []work.SavedFilter{{Name: " ", Query: "kind=experiment"}, {Name: "x", Query: "junk=1"}, {Name: "x", Query: "kind=story"}} {
		_, err := ws.SaveFilter(ctx, p, bad)
		wantCode(t, err, trellis.EINVALID)
	}
	fs := must[[]work.SavedFilter](t)(ws.Filters(ctx, p))
	if len(fs) != 1 || fs[0].Query != "label=data" {
		t.Fatalf("filters %+v", fs)
	}
	// Filters are personal: bob sees none of ada's.
	bob := must[*auth.User](t)(db.FindUserByName(context.Background(), "bob"))
	if got := must[[]work.SavedFilter](t)(ws.Filters(As(context.Background(), bob), p)); len(got) != 0 {
		t.Fatalf("bob sees %+v", got)
	}
	if err := ws.DeleteFilter(ctx, p, "My experiments"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, ws.DeleteFilter(ctx, p, "My experiments"), trellis.ENOTFOUND)
}
