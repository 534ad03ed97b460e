package work

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Template pre-fills an item: its kind, title, description and a checklist
// of sub-tasks created with it.
type Template struct {
	Name        string   `json:"name"`
	Kind        Kind     `json:"kind"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	SubTasks    []string `json:"sub_tasks"`
	Shipped     bool     `json:"shipped"` // comes with Trellis; cannot be replaced
}

// ShippedTemplates come with every project.
var ShippedTemplates = []Template{
	{Name: "Retrain model", Kind: KindMaintenance, Title: "Retrain the model on new data", Shipped: true,
		Description: "Recurring retraining: run it when new data lands or drift is detected.\n\n" +
			"- **Data:** which dataset version?\n- **Current model:** which version is in production?\n- **Release rule:** what must improve, and what must not get worse?",
		SubTasks: []string{"Collect new data", "Run evaluation", "Compare with current model", "Update model card", "Decide release"}},
	{Name: "Experiment", Kind: KindExperiment, Title: "Experiment: ", Shipped: true,
		Description: "## Setup\nData, baseline and what changes.\n\n## Result\nFilled in during Analysis: numbers, runs, surprises.",
		SubTasks:    []string{"Prepare data and baseline", "Run and log the experiment", "Analyse the results"}},
}

// TemplateStore is the persistence of a project's own templates.
type TemplateStore interface {
	FindTemplates(ctx context.Context, projectID string) ([]Template, error)
	// SaveTemplate inserts or replaces a template by name.
	SaveTemplate(ctx context.Context, projectID string, t Template) error
	// CreateItems inserts items in order (parents before children) in one
	// transaction, allocating each number.
	CreateItems(ctx context.Context, items []*Item) error
}

// Templates lists the shipped templates, then the project's own.
func (s *Service) Templates(ctx context.Context, proj *project.Project) ([]Template, error) {
	own, err := s.store.FindTemplates(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(ShippedTemplates), own...), nil
}

// SaveTemplate adds or replaces one of the project's templates.
// Errors: EINVALID naming the field.
func (s *Service) SaveTemplate(ctx context.Context, proj *project.Project, t Template) (Template, error) {
	t.Name, t.Title = strings.TrimSpace(t.Name), strings.TrimSpace(t.Title)
	if err := checkText("name", t.Name, 100, true); err != nil {
		return t, err
	}
	if slices.ContainsFunc(ShippedTemplates, func(st Template) bool { return strings.EqualFold(st.Name, t.Name) }) {
		return t, trellis.Invalid("name", "%q is a template that ships with Trellis; choose another name", t.Name)
	}
	k, err := ParseKind("kind", string(t.Kind))
	if err != nil {
		return t, err
	}
	t.Kind = k
	if err := checkText("title", t.Title, 300, true); err != nil {
		return t, err
	}
	if err := checkText("description", t.Description, 100000, false); err != nil {
		return t, err
	}
	var subs []string
	for _, st := range t.SubTasks {
		if st = strings.TrimSpace(st); st != "" {
			if len(st) > 300 {
				return t, trellis.Invalid("sub_tasks", "a sub-task title is at most 300 characters")
			}
			subs = append(subs, st)
		}
	}
	if len(subs) > 50 {
		return t, trellis.Invalid("sub_tasks", "a template has at most 50 sub-tasks")
	}
	t.SubTasks, t.Shipped = subs, false
	return t, s.store.SaveTemplate(ctx, proj.ID, t)
}

// FromTemplate is the input to CreateFromTemplate: the template's name and
// the item fields that override or complete it (a hypothesis for an
// experiment, say).
type FromTemplate struct {
	Template string  `json:"template"`
	Item     NewItem `json:"item"`
}

// CreateFromTemplate creates an item from a template with its sub-tasks,
// all or nothing. The item's own rules apply; sub-tasks are development
// items (maintenance under a maintenance item) in the first status.
// Errors: EINVALID naming the field.
func (s *Service) CreateFromTemplate(ctx context.Context, proj *project.Project, in FromTemplate) (*Item, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := s.Templates(ctx, proj)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(ts, func(t Template) bool { return strings.EqualFold(t.Name, strings.TrimSpace(in.Template)) })
	if i < 0 {
		return nil, trellis.Invalid("template", "no template named %q", in.Template)
	}
	t := ts[i]
	ni := in.Item
	ni.Kind = t.Kind
	if strings.TrimSpace(ni.Title) == "" {
		ni.Title = t.Title
	}
	if ni.Description == "" {
		ni.Description = t.Description
	}
	ic, err := s.loadItemCtx(ctx, proj)
	if err != nil {
		return nil, err
	}
	parent, err := s.buildItem(ctx, proj, ic, p.User.Name, ni)
	if err != nil {
		return nil, err
	}
	items := []*Item{parent}
	subKind := KindDevelopment
	if t.Kind == KindMaintenance {
		subKind = KindMaintenance
	}
	for _, title := range t.SubTasks {
		sub, err := s.buildItem(ctx, proj, ic, p.User.Name, NewItem{Kind: subKind, Title: title, Assignees: ni.Assignees, Labels: ni.Labels})
		if err != nil {
			return nil, err
		}
		sub.ParentID = parent.ID
		items = append(items, sub)
	}
	if err := s.store.CreateItems(ctx, items); err != nil {
		return nil, err
	}
	if err := s.recordSprint(ctx, proj, parent.SprintID); err != nil {
		return nil, err
	}
	return s.Item(ctx, proj, project.ItemKey(proj.Key, parent.Number))
}

// buildItem validates a new item against every rule without storing it.
func (s *Service) buildItem(ctx context.Context, proj *project.Project, ic *itemCtx, author string, in NewItem) (*Item, error) {
	kind, err := ParseKind("kind", string(in.Kind))
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	it := &Item{ID: uuid.Must(uuid.NewV7()).String(), ProjectID: proj.ID, Kind: kind, Title: strings.TrimSpace(in.Title),
		Description: in.Description, Status: in.Status, Priority: in.Priority, Phase: in.Phase, Deliverable: strings.TrimSpace(in.Deliverable),
		TimeBox: strings.TrimSpace(in.TimeBox), Hypothesis: strings.TrimSpace(in.Hypothesis), SuccessMetrics: in.SuccessMetrics,
		Points: in.Points, Size: strings.TrimSpace(in.Size), Learning: in.Learning, CreatedBy: author, CreatedAt: now, UpdatedAt: now}
	if it.Status == "" {
		it.Status = ic.statuses[0].Name
	}
	if it.Priority == "" {
		it.Priority = "none"
	}
	if it.Labels, err = cleanLabels(in.Labels); err != nil {
		return nil, err
	}
	if it.Assignees, it.AssigneeIDs, err = ic.resolveAssignees(in.Assignees); err != nil {
		return nil, err
	}
	if in.Parent != "" {
		parent, err := s.itemIn(ctx, proj, "parent", in.Parent)
		if err != nil {
			return nil, err
		}
		it.ParentID, it.Parent = parent.ID, parent.Key
	}
	if in.Sprint != "" {
		sp, err := s.sprintIn(ctx, proj, "sprint", in.Sprint)
		if err != nil {
			return nil, err
		}
		it.SprintID = sp.ID
	}
	if err := ic.checkItem(it); err != nil {
		return nil, err
	}
	it.DoDChecked = ic.cleanChecks(it.Kind, in.DoDChecked)
	if err := ic.checkDoD(it, false); err != nil {
		return nil, err
	}
	s.markProgress(ic, it, now)
	return it, nil
}
