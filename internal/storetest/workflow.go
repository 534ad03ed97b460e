package storetest

import (
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testWorkflowAndPlanning(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	ss := must[[]work.Status](t)(ws.Statuses(ctx, p))
	if len(ss) != 5 || ss[0].Name != "Backlog" || ss[4].Category != work.CategoryDone {
		t.Fatalf("default workflow %+v", ss)
	}
	must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "maintenance", Title: "x", Status: "To do"}))
	_, err := ws.SetStatuses(ctx, p, []work.Status{{Name: "Backlog", Category: "todo"}, {Name: "Done", Category: "done"}})
	wantCode(t, err, trellis.ECONFLICT)
	_, err = ws.SetStatuses(ctx, p, []work.Status{{Name: "To do", Category: "todo"}, {Name: "Done", Category: "later"}})
	wantCode(t, err, trellis.EINVALID)
	flow := []work.Status{{Name: "To do", Category: "todo"}, {Name: "Doing", Category: "doing", WIPLimit: 3}, {Name: "Done", Category: "done"}}
	must[[]work.Status](t)(ws.SetStatuses(ctx, p, flow))
	if got := must[[]work.Status](t)(ws.Statuses(ctx, p)); len(got) != 3 || got[1].WIPLimit != 3 {
		t.Fatalf("workflow %+v", got)
	}
	pl := must[work.Planning](t)(ws.Planning(ctx, p))
	if pl != work.DefaultPlanning {
		t.Fatalf("default planning %+v", pl)
	}
	_, err = ws.SetPlanning(ctx, p, work.Planning{PointScale: "tshirt", Allocation: work.Allocation{Committed: 50, Experiments: 30, Learning: 10}})
	if trellis.ErrorField(err) != "allocation" {
		t.Fatalf("allocation not adding to 100: %v", err)
	}
	must[work.Planning](t)(ws.SetPlanning(ctx, p, work.Planning{PointScale: "tshirt", Allocation: work.Allocation{Committed: 50, Experiments: 40, Learning: 10}}))
	it := must[*work.Item](t)(ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "t", Size: "l"}))
	if it.Size != "L" || it.Points != 5 {
		t.Fatalf("T-shirt L = %s/%d", it.Size, it.Points)
	}
	_, err = ws.CreateItem(ctx, p, work.NewItem{Kind: "development", Title: "t", Points: 3})
	if trellis.ErrorField(err) != "size" {
		t.Fatalf("points on a T-shirt project: %v", err)
	}
}
