package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testBulk(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "a", Points: 3, Labels: []string{"api"}}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "b"}))
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "c"}))
	st := "In progress"
	// BAL-2 has no points: the whole bulk edit is refused, naming it.
	_, err := ws.UpdateItems(ctx, p, work.BulkUpdate{Items: []string{"BAL-1", "BAL-2", "BAL-3"}, Status: &st})
	if trellis.ErrorField(err) != "points" || !strings.HasPrefix(trellis.ErrorMessage(err), "BAL-2: ") {
		t.Fatalf("bulk with an unready item: %v", err)
	}
	if it := must[*work.Item](t)(ws.Item(ctx, p, "BAL-1")); it.Status != "Backlog" {
		t.Fatalf("a refused bulk edit changed BAL-1 to %s", it.Status)
	}
	who := []string{"bob"}
	items := must[[]*work.Item](t)(ws.UpdateItems(ctx, p, work.BulkUpdate{Items: []string{"BAL-1", "BAL-3"}, Status: &st, Assignees: &who, AddLabels: []string{"q3"}}))
	if len(items) != 2 || items[0].Status != st || fmt.Sprint(items[0].Labels) != "[api q3]" || items[1].Assignees[0] != "bob" {
		t.Fatalf("bulk result %+v", items)
	}
	_, err = ws.UpdateItems(ctx, p, work.BulkUpdate{Items: []string{"BAL-1"}})
	wantCode(t, err, trellis.EINVALID)
}
