package storetest

import (
	"testing"

	"github.com/trellisml/trellis/internal/store"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

func testTemplates(t *testing.T, db *store.DB) {
	ctx, ws, p := itemFixture(t, db)
	ts := must[[]work.Template](t)(ws.Templates(ctx, p))
	if len(ts) != 2 || ts[0].Name != "Retrain model" || len(ts[0].SubTasks) != 5 {
		t.Fatalf("shipped templates %+v", ts)
	}
	it := must[*work.Item](t)(ws.CreateFromTemplate(ctx, p, work.FromTemplate{Template: "retrain model", Item: work.NewItem{Title: "Retrain on July photos", Assignees: []string{"bob"}}}))
	if it.Kind != work.KindMaintenance || len(it.SubTasks) != 5 || it.SubTasks[0].Title != "Collect new data" || it.SubTasks[4].Title != "Decide release" {
		t.Fatalf("from template %+v", it)
	}
	// The experiment template still needs its hypothesis, and a refusal
	// creates nothing.
	_, err := ws.CreateFromTemplate(ctx, p, work.FromTemplate{Template: "Experiment", Item: work.NewItem{Title: "Mosaic"}})
	if trellis.ErrorField(err) != "hypothesis" {
		t.Fatalf("experiment template without hypothesis: %v", err)
	}
	if n := len(must[[]*work.Item](t)(ws.Items(ctx, p, work.ItemFilter{}))); n != 6 {
		t.Fatalf("%d items after a refused template", n)
	}
	_, err = ws.SaveTemplate(ctx, p, work.Template{Name: "Experiment", Kind: "experiment", Title: "x"})
	if trellis.ErrorField(err) != "name" {
		t.Fatalf("replacing a shipped template: %v", err)
	}
	must[work.Template](t)(ws.SaveTemplate(ctx, p, work.Template{Name: "Label batch", Kind: "maintenance", Title: "Label a batch", SubTasks: []string{"Export", "Label", " ", "Import"}}))
	it = must[*work.Item](t)(ws.CreateFromTemplate(ctx, p, work.FromTemplate{Template: "Label batch"}))
	if it.Title != "Label a batch" || len(it.SubTasks) != 3 {
		t.Fatalf("own template %+v", it)
	}
	_, err = ws.CreateFromTemplate(ctx, p, work.FromTemplate{Template: "Nope"})
	if trellis.ErrorField(err) != "template" {
		t.Fatalf("unknown template: %v", err)
	}
}
