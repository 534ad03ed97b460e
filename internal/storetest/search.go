package storetest

import (
	"fmt"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testSearch(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "Serve the balloon detector", Description: "Latency under 200 ms"}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "research", Title: "Read about focal loss"}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "Retrain"}))
	must[*work.Comment](t)(ws.AddComment(ctx, p, "BAL-3", "The nightly pipeline broke on empty folders"))
	title := "Serve the hot-air balloon detector"
	must[*work.Item](t)(ws.UpdateItem(ctx, p, "BAL-1", work.ItemUpdate{Title: &title}))
	for _, c := range []struct{ q, want string }{
		{"balloon", "[BAL-1]"},
		{"ballo", "[BAL-1]"},
		{"hot-air", "[BAL-1]"},
		{"latency", "[BAL-1]"},
		{"focal loss", "[BAL-2]"},
		{"pipeline folders", "[BAL-3]"},
		{"BAL-2", "[BAL-2]"},
		{`"unbalanced quote`, "[]"},
		{"NEAR(x y) OR *", "[]"},
		{"nothing-like-this", "[]"},
	} {
		got := fmt.Sprint(keysOf(must[[]*work.Item](t)(ws.Search(ctx, p, c.q))))
		if got != c.want {
			t.Errorf("search %q = %s, want %s", c.q, got, c.want)
		}
	}
	_, err := ws.Search(ctx, p, " ")
	wantCode(t, err, trellis.EINVALID)
}
