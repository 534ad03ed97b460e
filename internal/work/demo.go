package work

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"github.com/trellisml/trellis/internal/auth"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Demo project identity.
const (
	DemoKey  = "BAL"
	DemoName = "Balloon detector"
)

// DemoTeam are the people of the demo story: a data scientist, an engineer,
// a tester and a product owner.
var DemoTeam = []string{"ada", "ben", "tess", "paula"}

// NewUserFunc creates (or returns the existing) user name for the demo team;
// the caller wires it to auth, which owns accounts.
type NewUserFunc func(ctx context.Context, name string) (*auth.User, error)

// Accounts is what DemoUsers needs from auth.
type Accounts interface {
	CreateUser(ctx context.Context, in auth.NewUser) (*auth.User, error)
	UserByName(ctx context.Context, name string) (*auth.User, error)
}

// DemoUsers returns a NewUserFunc that gives each demo teammate an account
// with a random password nobody knows: they appear as assignees, and an
// admin can set a password to sign in as one of them.
func DemoUsers(a Accounts) NewUserFunc {
	return func(ctx context.Context, name string) (*auth.User, error) {
		if u, err := a.UserByName(ctx, name); err == nil {
			return u, nil
		}
		// Seeding runs on trusted paths only (first-admin setup and
		// serve --demo), so the accounts are created by the system, not
		// by the principal the seeding acts as.
		return a.CreateUser(auth.NewContext(ctx, nil), auth.NewUser{Name: name, Password: rand.Text() + rand.Text()})
	}
}

// SeedDemo creates the demo project "Balloon detector" (key BAL) as the
// caller, with the demo team as editors, and tells the story of a small ML
// team through the Service, so every rule applies to the demo as to real
// data: items of all four kinds, an active sprint with a realistic
// allocation, experiments in every board column including decided ones.
// It returns the project and its items' keys by title, which the demo's
// runs and goals refer to. It refuses (ECONFLICT) when project BAL exists.
func (s *Service) SeedDemo(ctx context.Context, newUser NewUserFunc) (*project.Project, map[string]string, error) {
	if _, err := s.store.FindProjectByKey(ctx, DemoKey); err == nil {
		return nil, nil, trellis.Errorf(trellis.ECONFLICT, "Project %s already exists.", DemoKey)
	}
	proj, err := s.projects.CreateProject(ctx, project.NewProject{Key: DemoKey, Name: DemoName,
		Description: "A small ML team trains an image model that finds hot-air balloons in photos for a festival's photo app. " +
			"Ada trains models, Ben builds the service around them, Tess tests, Paula owns the product. " +
			"Open the Backlog, the Board, the Sprints and the Experiments pages to see how they plan research, experiments and production work together."})
	if err != nil {
		return nil, nil, err
	}
	for _, name := range DemoTeam {
		if _, err := newUser(ctx, name); err != nil {
			return nil, nil, fmt.Errorf("demo user %s: %w", name, err)
		}
		if p := auth.FromContext(ctx); p != nil && p.User.Name == name {
			continue // the owner stays admin
		}
		if _, err := s.projects.SetMember(ctx, proj, name, auth.RoleEditor); err != nil {
			return nil, nil, err
		}
	}
	// WIP limits on the working columns, so the flow board shows them:
	// In progress ends at its limit.
	flow := slices.Clone(DefaultStatuses)
	for i := range flow {
		flow[i].WIPLimit = map[string]int{"In progress": 4, "In review": 3}[flow[i].Name]
	}
	if _, err := s.SetStatuses(ctx, proj, flow); err != nil {
		return nil, nil, err
	}
	d := demo{s: s, ctx: ctx, proj: proj}
	now := s.now().UTC()
	day := func(offset int) string { return now.AddDate(0, 0, offset).Format(time.DateOnly) }

	// The last sprint, closed, and the current one.
	d.sprint(NewSprint{Name: "Sprint 6", Goal: "A first detector the app can call", StartsOn: day(-17), EndsOn: day(-4),
		Capacity: map[string]int{"ada": 10, "ben": 10, "tess": 6}})
	d.sprint(NewSprint{Name: "Sprint 7", Goal: "Recall of balloon ≥ 0.80 on balloons v3 without slowing the API down", StartsOn: day(-3), EndsOn: day(10),
		Capacity: map[string]int{"ada": 12, "ben": 13, "tess": 8}})
	d.sprint(NewSprint{Name: "Sprint 8", Goal: "Release the detector to the festival app", StartsOn: day(11), EndsOn: day(24)})

	epic := d.item(NewItem{Kind: KindDevelopment, Title: "Serve the balloon detector behind the photo app", Points: 13, Priority: "high", Phase: "productionize",
		Deliverable: "POST /detect answers with boxes in under 200 ms p95", Assignees: []string{"ben"}, Labels: []string{"serving"},
		Description: "The festival app uploads a photo and gets back the balloons in it.\n\n" +
			"## Acceptance\n- p95 latency under **200 ms** on a 4-core box\n- boxes in the agreed JSON format (see the model card)\n- errors never leak stack traces"})
	d.item(NewItem{Kind: KindDevelopment, Title: "Define the /detect request and response format", Points: 3, Parent: epic.Key, Assignees: []string{"ben"},
		Labels: []string{"serving"}, Status: "Done", Sprint: "Sprint 6", DoDChecked: DefaultDoD[KindDevelopment], Description: "JSON in, JSON out. Boxes as `[x, y, w, h]` in pixels with a score."})
	d.item(NewItem{Kind: KindDevelopment, Title: "Load the model once at start-up and warm it", Points: 2, Parent: epic.Key, Assignees: []string{"ben"},
		Labels: []string{"serving"}, Status: "Done", Sprint: "Sprint 6", DoDChecked: DefaultDoD[KindDevelopment]})
	d.item(NewItem{Kind: KindDevelopment, Title: "Batch concurrent requests on the GPU", Points: 5, Parent: epic.Key, Assignees: []string{"ben"},
		Labels: []string{"serving"}, Status: "In progress", Sprint: "Sprint 7"})
	d.item(NewItem{Kind: KindDevelopment, Title: "Load test /detect at festival traffic", Points: 3, Parent: epic.Key, Assignees: []string{"tess"},
		Labels: []string{"testing"}, Status: "To do", Sprint: "Sprint 7", Deliverable: "A k6 script in the repo and its numbers on the model card"})
	d.item(NewItem{Kind: KindMaintenance, Title: "Retrain on the July photo drop", Points: 3, Assignees: []string{"ada"}, Labels: []string{"retraining"},
		Status: "In review", Sprint: "Sprint 7", Description: "1. Collect new data\n2. Run evaluation\n3. Compare with the current model\n4. Update the model card\n5. Decide release"})
	d.item(NewItem{Kind: KindMaintenance, Title: "Nightly evaluation job fails on empty folders", Points: 1, Assignees: []string{"ben"}, Labels: []string{"pipeline"},
		Status: "Done", Sprint: "Sprint 7", DoDChecked: DefaultDoD[KindMaintenance]})
	d.item(NewItem{Kind: KindDevelopment, Title: "Show balloon boxes in the app's photo viewer", Points: 5, Assignees: []string{"ben"}, Priority: "medium"})
	d.item(NewItem{Kind: KindDevelopment, Title: "Model card page for the detector", Points: 2, Assignees: []string{"paula"}, Status: "To do", Sprint: "Sprint 8"})
	d.item(NewItem{Kind: KindMaintenance, Title: "Alert when the share of night photos drifts", TimeBox: "2d", Labels: []string{"monitoring"}})
	d.item(NewItem{Kind: KindResearch, Title: "Read up on small-object detection", TimeBox: "3d", Assignees: []string{"ada"}, Labels: []string{"learning"},
		Status: "In progress", Sprint: "Sprint 7", Description: "Balloons far away are a few pixels wide. What do FPN variants and tiling buy us?"})
	d.item(NewItem{Kind: KindResearch, Title: "Which labelling tool can the festival volunteers use?", TimeBox: "2d", Assignees: []string{"paula"}})

	// Experiments in every column of the experiment board.
	d.item(NewItem{Kind: KindExperiment, Title: "Synthetic balloons pasted into sky photos",
		Hypothesis: "We believe adding 5k synthetic balloons will raise recall on small balloons by 5 points, measured by recall@0.5 on the small-object slice of balloons v3"})
	hires := d.item(NewItem{Kind: KindExperiment, Title: "Higher input resolution (1024 px)", TimeBox: "3d", Assignees: []string{"ada"}, Sprint: "Sprint 7", Status: "In progress",
		Hypothesis:     "We believe 1024 px inputs will raise recall to 0.80 while keeping p95 latency under 200 ms, measured on balloons v3",
		SuccessMetrics: "recall@0.5 ≥ 0.80; p95 latency ≤ 200 ms"})
	d.move(hires.Key, StageActive)
	analysis := d.item(NewItem{Kind: KindExperiment, Title: "Focal loss against class imbalance", TimeBox: "2d", Assignees: []string{"ada"}, Sprint: "Sprint 7",
		Status: "In review", Hypothesis: "We believe focal loss will cut false negatives on balloons by 20%, measured by recall@0.5 on balloons v3",
		SuccessMetrics: "recall@0.5 +0.04 or better; precision no worse than −0.02"})
	d.move(analysis.Key, StageAnalysis)
	mosaic := d.item(NewItem{Kind: KindExperiment, Title: "Mosaic augmentation", TimeBox: "2d", Assignees: []string{"ada"}, Sprint: "Sprint 6",
		Hypothesis: "We believe mosaic augmentation will raise recall by 3 points, measured by recall@0.5 on balloons v3"})
	d.move(mosaic.Key, StageActive)
	d.decide(mosaic.Key, DecisionInput{Outcome: OutcomeProductionize, Verdict: "supported", Reason: "Recall 0.71 → 0.76 at equal precision.",
		Evidence: []string{"https://mlflow.example.org/#/experiments/1/runs/mosaic-v2"}})
	gray := d.item(NewItem{Kind: KindExperiment, Title: "Train on grayscale images", TimeBox: "4h", Assignees: []string{"ada"},
		Hypothesis: "We believe grayscale inputs will halve inference time without losing recall, measured by p95 latency and recall@0.5"})
	d.move(gray.Key, StageActive)
	d.decide(gray.Key, DecisionInput{Outcome: OutcomeAbandon, Verdict: "refuted", Reason: "Colour is most of the signal: recall dropped from 0.76 to 0.58."})
	dist := d.item(NewItem{Kind: KindExperiment, Title: "Distil into a smaller backbone", TimeBox: "3d", Assignees: []string{"ada"},
		Hypothesis: "We believe a distilled MobileNet student keeps 95% of the teacher's recall at a third of the latency"})
	d.move(dist.Key, StageAnalysis)
	d.decide(dist.Key, DecisionInput{Outcome: OutcomeMoreResearch, Verdict: "inconclusive", TimeBox: "1w",
		Reason: "Latency goal met, recall 0.90 of the teacher's: close, but the eval set is too small to tell."})
	// A research item that has run past its time box, so the boards show
	// what expiry looks like: it started five days ago with a two-day box.
	past := *s
	past.now = func() time.Time { return now.Add(-5 * 24 * time.Hour) }
	pd := demo{s: &past, ctx: ctx, proj: proj}
	pd.item(NewItem{Kind: KindResearch, Title: "Can we get labelled balloons from last year's festival?", TimeBox: "2d",
		Assignees: []string{"paula"}, Status: "In progress", Sprint: "Sprint 7"})
	d.comment(epic.Key, "Paula: the festival app team needs the response format by the end of the sprint. @ben can you confirm the box format?")
	d.comment(analysis.Key, "Recall went from 0.76 to **0.79** on balloons v3, precision down 0.01. Close to the goal; @tess please check the small-object slice before we decide.")
	d.comment(mosaic.Key, "Productionizing this: the follow-up story carries the augmentation into the training pipeline.")
	if d.err != nil || pd.err != nil {
		return nil, nil, fmt.Errorf("seed demo: %w", firstErr(d.err, pd.err))
	}
	// Sprint 6 ran its course and closed on its last day; Sprint 7 started
	// three days ago. Both burndowns have a point for every past day.
	at := func(offset int) *Service {
		c := *s
		c.now = func() time.Time { return now.AddDate(0, 0, offset) }
		return &c
	}
	if _, err := at(-17).StartSprint(ctx, proj, "Sprint 6"); err != nil {
		return nil, nil, err
	}
	if err := at(-17).burnDemo(ctx, proj, "Sprint 6", 14); err != nil {
		return nil, nil, err
	}
	if _, err := at(-4).CloseSprint(ctx, proj, "Sprint 6", "next"); err != nil {
		return nil, nil, err
	}
	sp7, err := at(-3).StartSprint(ctx, proj, "Sprint 7")
	if err != nil {
		return nil, nil, err
	}
	if err := at(-3).burnDemo(ctx, proj, "Sprint 7", 3); err != nil {
		return nil, nil, err
	}
	if err := s.recordDay(ctx, proj, sp7); err != nil {
		return nil, nil, err
	}
	items, err := s.Items(ctx, proj, ItemFilter{})
	if err != nil {
		return nil, nil, err
	}
	keys := make(map[string]string, len(items))
	for _, it := range items {
		keys[it.Title] = it.Key
	}
	return proj, keys, nil
}

// burnDemo records a burndown history for the first days of an active
// sprint, from the service's clock on: the points committed today, done
// at a steady pace that reaches today's done points on the day after the
// last one recorded.
func (s *Service) burnDemo(ctx context.Context, proj *project.Project, ref string, days int) error {
	sp, err := s.Sprint(ctx, proj, ref)
	if err != nil {
		return err
	}
	committed, done, err := s.sprintTotals(ctx, proj, sp)
	if err != nil {
		return err
	}
	first := s.now().UTC().Truncate(24 * time.Hour)
	for k := range days {
		if err := s.store.RecordSprintDay(ctx, sp.ID, first.AddDate(0, 0, k), committed, done*k/days); err != nil {
			return err
		}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// demo keeps the first error so that the story reads as a list of steps.
type demo struct {
	s    *Service
	ctx  context.Context
	proj *project.Project
	err  error
}

func (d *demo) item(in NewItem) *Item {
	if d.err != nil {
		return &Item{}
	}
	it, err := d.s.CreateItem(d.ctx, d.proj, in)
	if err != nil {
		d.err = fmt.Errorf("%s: %w", in.Title, err)
		return &Item{}
	}
	return it
}

func (d *demo) sprint(in NewSprint) {
	if d.err == nil {
		_, d.err = d.s.CreateSprint(d.ctx, d.proj, in)
	}
}

func (d *demo) move(key, stage string) {
	if d.err == nil {
		_, d.err = d.s.UpdateItem(d.ctx, d.proj, key, ItemUpdate{Stage: &stage})
	}
}

func (d *demo) comment(key, body string) {
	if d.err == nil {
		_, d.err = d.s.AddComment(d.ctx, d.proj, key, body)
	}
}

func (d *demo) decide(key string, in DecisionInput) {
	if d.err == nil {
		_, _, d.err = d.s.Decide(d.ctx, d.proj, key, in)
	}
}
