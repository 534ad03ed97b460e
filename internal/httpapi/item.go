package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/trellis"
	"github.com/trellisml/trellis/internal/work"
)

// itemRoutes are the backlog, board, sprint and decision resources of a
// project: viewers read, editors write, admins change the workflow and the
// planning settings.
func (api *API) itemRoutes() []route.Route {
	return []route.Route{
		{Method: "GET", Pattern: "/projects/{key}/items", Access: route.ProjectViewer, Handler: api.listItems},
		{Method: "POST", Pattern: "/projects/{key}/items", Access: route.ProjectEditor, Handler: api.createItem},
		{Method: "GET", Pattern: "/projects/{key}/items/{item}", Access: route.ProjectViewer, Handler: api.getItem},
		{Method: "POST", Pattern: "/projects/{key}/bulk", Access: route.ProjectEditor, Handler: api.bulkUpdate},
		{Method: "GET", Pattern: "/projects/{key}/filters", Access: route.ProjectViewer, Handler: api.listFilters},
		{Method: "PUT", Pattern: "/projects/{key}/filters/{name}", Access: route.ProjectViewer, Handler: api.saveFilter},
		{Method: "DELETE", Pattern: "/projects/{key}/filters/{name}", Access: route.ProjectViewer, Handler: api.deleteFilter},
		{Method: "PATCH", Pattern: "/projects/{key}/items/{item}", Access: route.ProjectEditor, Handler: api.updateItem},
		{Method: "GET", Pattern: "/projects/{key}/items/{item}/history", Access: route.ProjectViewer, Handler: api.itemHistory},
		{Method: "POST", Pattern: "/projects/{key}/items/{item}/links", Access: route.ProjectEditor, Handler: api.addLink},
		{Method: "DELETE", Pattern: "/projects/{key}/items/{item}/links", Access: route.ProjectEditor, Handler: api.removeLink},
		{Method: "POST", Pattern: "/projects/{key}/items/{item}/decision", Access: route.ProjectEditor, Handler: api.decide},
		{Method: "GET", Pattern: "/projects/{key}/hypotheses", Access: route.ProjectViewer, Handler: api.hypothesisLog},
		{Method: "GET", Pattern: "/projects/{key}/board", Access: route.ProjectViewer, Handler: api.board},
		{Method: "GET", Pattern: "/projects/{key}/workflow", Access: route.ProjectViewer, Handler: api.getWorkflow},
		{Method: "PUT", Pattern: "/projects/{key}/workflow", Access: route.ProjectAdmin, Handler: api.setWorkflow},
		{Method: "GET", Pattern: "/projects/{key}/planning", Access: route.ProjectViewer, Handler: api.getPlanning},
		{Method: "PUT", Pattern: "/projects/{key}/planning", Access: route.ProjectAdmin, Handler: api.setPlanning},
		{Method: "GET", Pattern: "/projects/{key}/sprints", Access: route.ProjectViewer, Handler: api.listSprints},
		{Method: "POST", Pattern: "/projects/{key}/sprints", Access: route.ProjectEditor, Handler: api.createSprint},
		{Method: "GET", Pattern: "/projects/{key}/sprints/{sprint}", Access: route.ProjectViewer, Handler: api.getSprint},
		{Method: "PATCH", Pattern: "/projects/{key}/sprints/{sprint}", Access: route.ProjectEditor, Handler: api.updateSprint},
		{Method: "POST", Pattern: "/projects/{key}/sprints/{sprint}/start", Access: route.ProjectEditor, Handler: api.startSprint},
		{Method: "POST", Pattern: "/projects/{key}/sprints/{sprint}/close", Access: route.ProjectEditor, Handler: api.closeSprint},
		{Method: "GET", Pattern: "/projects/{key}/sprints/{sprint}/burn", Access: route.ProjectViewer, Handler: api.sprintBurn},
		{Method: "GET", Pattern: "/projects/{key}/dod", Access: route.ProjectViewer, Handler: api.getDoD},
		{Method: "GET", Pattern: "/projects/{key}/items/{item}/comments", Access: route.ProjectViewer, Handler: api.listComments},
		{Method: "POST", Pattern: "/projects/{key}/items/{item}/comments", Access: route.ProjectEditor, Handler: api.addComment},
		{Method: "GET", Pattern: "/projects/{key}/activity", Access: route.ProjectViewer, Handler: api.activity},
		{Method: "GET", Pattern: "/projects/{key}/search", Access: route.ProjectViewer, Handler: api.search},
		{Method: "GET", Pattern: "/projects/{key}/templates", Access: route.ProjectViewer, Handler: api.listTemplates},
		{Method: "POST", Pattern: "/projects/{key}/import", Access: route.ProjectEditor, Handler: api.importCSV},
		{Method: "PUT", Pattern: "/projects/{key}/templates/{name}", Access: route.ProjectAdmin, Handler: api.saveTemplate},
		{Method: "POST", Pattern: "/projects/{key}/templates/{name}/items", Access: route.ProjectEditor, Handler: api.createFromTemplate},
		{Method: "GET", Pattern: "/inbox", Access: route.Authenticated, Handler: api.inbox},
		{Method: "POST", Pattern: "/inbox/read", Access: route.Authenticated, Handler: api.inboxRead},
		{Method: "PUT", Pattern: "/projects/{key}/dod/{kind}", Access: route.ProjectAdmin, Handler: api.setDoD},
	}
}

type itemList struct {
	Items []*work.Item `json:"items"`
}

// itemFilter reads the list filters shared by /items and /board.
func itemFilter(r *http.Request) (work.ItemFilter, error) {
	q := r.URL.Query()
	f := work.ItemFilter{Kind: work.Kind(q.Get("kind")), Status: q.Get("status"), Assignee: q.Get("assignee"),
		Label: q.Get("label"), Text: q.Get("q"), SprintID: q.Get("sprint")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > work.MaxItems {
			return f, trellis.Invalid("limit", "limit must be a number from 1 to %d", work.MaxItems)
		}
		f.Limit = n
	}
	return f, nil
}

// resolveSprint turns a sprint name or id (or "none", "active") in a filter
// into the sprint id the store filters by.
func (api *API) resolveSprint(r *http.Request, f *work.ItemFilter) error {
	proj := route.ProjectFrom(r.Context())
	switch f.SprintID {
	case "", "none":
		return nil
	case "active":
		sp, err := api.work.ActiveSprint(r.Context(), proj)
		if err != nil {
			return err
		}
		if sp == nil {
			return trellis.Invalid("sprint", "project %s has no active sprint", proj.Key)
		}
		f.SprintID = sp.ID
		return nil
	}
	sp, err := api.work.Sprint(r.Context(), proj, f.SprintID)
	if err != nil {
		return trellis.Invalid("sprint", "%s", trellis.ErrorMessage(err))
	}
	f.SprintID = sp.ID
	return nil
}

func (api *API) listItems(w http.ResponseWriter, r *http.Request) error {
	f, err := itemFilter(r)
	if err != nil {
		return err
	}
	if err := api.resolveSprint(r, &f); err != nil {
		return err
	}
	items, err := api.work.Items(r.Context(), route.ProjectFrom(r.Context()), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, itemList{Items: items})
}

func (api *API) createItem(w http.ResponseWriter, r *http.Request) error {
	var req work.NewItem
	if err := decode(r, &req); err != nil {
		return err
	}
	it, err := api.work.CreateItem(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, it)
}

func (api *API) getItem(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	it, err := api.work.Item(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, it)
}

func (api *API) updateItem(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req work.ItemUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	it, err := api.work.UpdateItem(r.Context(), route.ProjectFrom(r.Context()), ref, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, it)
}

type eventList struct {
	Events []*work.ItemEvent `json:"events"`
}

func (api *API) itemHistory(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	evs, err := api.work.History(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, eventList{Events: evs})
}

// LinkRequest is the body of POST and DELETE /items/{item}/links.
type LinkRequest struct {
	Type string `json:"type"`
	To   string `json:"to"`
}

func (api *API) addLink(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req LinkRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	if err := api.work.AddLink(r.Context(), proj, ref, req.Type, req.To); err != nil {
		return err
	}
	it, err := api.work.Item(r.Context(), proj, ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, it)
}

func (api *API) removeLink(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req LinkRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := api.work.RemoveLink(r.Context(), route.ProjectFrom(r.Context()), ref, req.Type, req.To); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DecisionResponse is the answer of POST /items/{item}/decision.
type DecisionResponse struct {
	Decision *work.Decision `json:"decision"`
	FollowUp *work.Item     `json:"follow_up,omitempty"`
}

func (api *API) decide(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req work.DecisionInput
	if err := decode(r, &req); err != nil {
		return err
	}
	d, follow, err := api.work.Decide(r.Context(), route.ProjectFrom(r.Context()), ref, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, DecisionResponse{Decision: d, FollowUp: follow})
}

type decisionList struct {
	Decisions []*work.Decision `json:"decisions"`
}

func (api *API) hypothesisLog(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ds, err := api.work.HypothesisLog(r.Context(), route.ProjectFrom(r.Context()),
		work.HypothesisFilter{Verdict: q.Get("verdict"), Outcome: q.Get("outcome"), Text: q.Get("q")})
	if err != nil {
		return err
	}
	if len(ds) > 0 {
		ev, err := api.goals.EvidenceSentences(r.Context(), route.ProjectFrom(r.Context()))
		if err != nil {
			return err
		}
		for _, d := range ds {
			d.GoalResults = ev[d.ItemID]
		}
	}
	switch q.Get("format") {
	case "", "json":
		return writeJSON(w, http.StatusOK, decisionList{Decisions: ds})
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		return work.WriteHypothesisCSV(w, ds)
	case "markdown", "md":
		w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
		return work.WriteHypothesisMarkdown(w, route.ProjectFrom(r.Context()), ds)
	}
	return trellis.Invalid("format", "format must be json, csv or markdown")
}

func (api *API) board(w http.ResponseWriter, r *http.Request) error {
	f, err := itemFilter(r)
	if err != nil {
		return err
	}
	if err := api.resolveSprint(r, &f); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	var b *work.Board
	switch r.URL.Query().Get("type") {
	case "", "flow", "sprint":
		b, err = api.work.Board(r.Context(), proj, f, 0)
	case "experiments":
		b, err = api.work.ExperimentBoard(r.Context(), proj, f)
	default:
		return trellis.Invalid("type", "type must be flow, sprint or experiments")
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

// Workflow is the body of GET and PUT /workflow.
type Workflow struct {
	Statuses []work.Status `json:"statuses"`
}

func (api *API) getWorkflow(w http.ResponseWriter, r *http.Request) error {
	ss, err := api.work.Statuses(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Workflow{Statuses: ss})
}

func (api *API) setWorkflow(w http.ResponseWriter, r *http.Request) error {
	var req Workflow
	if err := decode(r, &req); err != nil {
		return err
	}
	ss, err := api.work.SetStatuses(r.Context(), route.ProjectFrom(r.Context()), req.Statuses)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, Workflow{Statuses: ss})
}

func (api *API) getPlanning(w http.ResponseWriter, r *http.Request) error {
	p, err := api.work.Planning(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (api *API) setPlanning(w http.ResponseWriter, r *http.Request) error {
	var req work.Planning
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := api.work.SetPlanning(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

type sprintList struct {
	Sprints []*work.Sprint `json:"sprints"`
}

func (api *API) listSprints(w http.ResponseWriter, r *http.Request) error {
	sps, err := api.work.Sprints(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sprintList{Sprints: sps})
}

func (api *API) createSprint(w http.ResponseWriter, r *http.Request) error {
	var req work.NewSprint
	if err := decode(r, &req); err != nil {
		return err
	}
	sp, err := api.work.CreateSprint(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, sp)
}

func (api *API) getSprint(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	plan, err := api.work.PlanSprint(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, plan)
}

func (api *API) updateSprint(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	var req work.SprintUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	sp, err := api.work.UpdateSprint(r.Context(), route.ProjectFrom(r.Context()), ref, req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sp)
}

func (api *API) startSprint(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	sp, err := api.work.StartSprint(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sp)
}

// CloseSprintRequest is the body of POST /sprints/{sprint}/close.
type CloseSprintRequest struct {
	// MoveTo is where unfinished items go: "next" (the next planned
	// sprint) or "backlog".
	MoveTo string `json:"move_to"`
}

func (api *API) closeSprint(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	var req CloseSprintRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	sp, err := api.work.CloseSprint(r.Context(), route.ProjectFrom(r.Context()), ref, req.MoveTo)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sp)
}

func (api *API) sprintBurn(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "sprint")
	if err != nil {
		return err
	}
	b, err := api.work.SprintBurn(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, b)
}

func (api *API) getDoD(w http.ResponseWriter, r *http.Request) error {
	d, err := api.work.DoD(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// DoDRequest is the body of PUT /dod/{kind}.
type DoDRequest struct {
	Points []string `json:"points"`
}

func (api *API) setDoD(w http.ResponseWriter, r *http.Request) error {
	kind, err := pathValue(r, "kind")
	if err != nil {
		return err
	}
	var req DoDRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	ps, err := api.work.SetDoD(r.Context(), route.ProjectFrom(r.Context()), work.Kind(kind), req.Points)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, DoDRequest{Points: ps})
}

type commentList struct {
	Comments []*work.Comment `json:"comments"`
}

func (api *API) listComments(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	cs, err := api.work.Comments(r.Context(), route.ProjectFrom(r.Context()), ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, commentList{Comments: cs})
}

// CommentRequest is the body of POST /items/{item}/comments.
type CommentRequest struct {
	Body string `json:"body"`
}

func (api *API) addComment(w http.ResponseWriter, r *http.Request) error {
	ref, err := pathValue(r, "item")
	if err != nil {
		return err
	}
	var req CommentRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	c, err := api.work.AddComment(r.Context(), route.ProjectFrom(r.Context()), ref, req.Body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

type activityList struct {
	Activity []*work.Activity `json:"activity"`
}

func (api *API) activity(w http.ResponseWriter, r *http.Request) error {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return trellis.Invalid("limit", "limit must be a number from 1 to 500")
		}
		limit = n
	}
	as, err := api.work.ActivityFeed(r.Context(), route.ProjectFrom(r.Context()), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, activityList{Activity: as})
}

type inboxList struct {
	Notifications []*work.Notification `json:"notifications"`
}

func (api *API) inbox(w http.ResponseWriter, r *http.Request) error {
	ns, err := api.work.Inbox(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, inboxList{Notifications: ns})
}

// InboxReadRequest is the body of POST /inbox/read.
type InboxReadRequest struct {
	// All must be true: it marks every notification read.
	All bool `json:"all"`
}

func (api *API) inboxRead(w http.ResponseWriter, r *http.Request) error {
	var req InboxReadRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if !req.All {
		return trellis.Invalid("all", `send {"all": true} to mark every notification read`)
	}
	if err := api.work.MarkInboxRead(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type templateList struct {
	Templates []work.Template `json:"templates"`
}

func (api *API) listTemplates(w http.ResponseWriter, r *http.Request) error {
	ts, err := api.work.Templates(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, templateList{Templates: ts})
}

// TemplateRequest is the body of PUT /templates/{name}.
type TemplateRequest struct {
	Kind        work.Kind `json:"kind"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	SubTasks    []string  `json:"sub_tasks"`
}

func (api *API) saveTemplate(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	var req TemplateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	t, err := api.work.SaveTemplate(r.Context(), route.ProjectFrom(r.Context()),
		work.Template{Name: name, Kind: req.Kind, Title: req.Title, Description: req.Description, SubTasks: req.SubTasks})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (api *API) createFromTemplate(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	var req work.NewItem
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Kind != "" {
		return trellis.Invalid("kind", "the template decides the kind; leave kind out")
	}
	it, err := api.work.CreateFromTemplate(r.Context(), route.ProjectFrom(r.Context()), work.FromTemplate{Template: name, Item: req})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, it)
}

// importOptions reads ?mapping=jira and map.FIELD=Column parameters.
func importOptions(r *http.Request) (work.ImportOptions, error) {
	q := r.URL.Query()
	opts := work.ImportOptions{Columns: map[string]string{}}
	switch q.Get("mapping") {
	case "", "trellis":
	case "jira":
		opts.Jira = true
	default:
		return opts, trellis.Invalid("mapping", "mapping must be trellis or jira")
	}
	for k, vs := range q {
		if f, ok := strings.CutPrefix(k, "map."); ok && len(vs) > 0 {
			opts.Columns[f] = vs[0]
		}
	}
	return opts, nil
}

// importResponse is the answer to an import; a refused import carries the
// usual error object and every refused row.
type importResponse struct {
	*work.ImportResult
	Error *errorDetail `json:"error,omitempty"`
}

func (api *API) importCSV(w http.ResponseWriter, r *http.Request) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "application/octet-stream") {
		return trellis.Invalid("", "Content-Type must be text/csv")
	}
	opts, err := importOptions(r)
	if err != nil {
		return err
	}
	res, err := api.work.ImportCSV(r.Context(), route.ProjectFrom(r.Context()), r.Body, opts)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return trellis.Errorf(trellis.ETOOLARGE, "the file is larger than %d bytes; split it", tooBig.Limit)
		}
		return err
	}
	if len(res.Errors) > 0 {
		return writeJSON(w, http.StatusBadRequest, importResponse{ImportResult: res, Error: &errorDetail{Code: trellis.EINVALID, Field: "rows",
			Message: fmt.Sprintf("%d rows were refused; nothing was imported", len(res.Errors))}})
	}
	return writeJSON(w, http.StatusCreated, importResponse{ImportResult: res})
}

func (api *API) search(w http.ResponseWriter, r *http.Request) error {
	items, err := api.work.Search(r.Context(), route.ProjectFrom(r.Context()), r.URL.Query().Get("q"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, itemList{Items: items})
}

func (api *API) bulkUpdate(w http.ResponseWriter, r *http.Request) error {
	var req work.BulkUpdate
	if err := decode(r, &req); err != nil {
		return err
	}
	items, err := api.work.UpdateItems(r.Context(), route.ProjectFrom(r.Context()), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, itemList{Items: items})
}

type filterList struct {
	Filters []work.SavedFilter `json:"filters"`
}

func (api *API) listFilters(w http.ResponseWriter, r *http.Request) error {
	fs, err := api.work.Filters(r.Context(), route.ProjectFrom(r.Context()))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, filterList{Filters: fs})
}

// FilterRequest is the body of PUT /filters/{name}.
type FilterRequest struct {
	Query string `json:"query"`
}

func (api *API) saveFilter(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	var req FilterRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	f, err := api.work.SaveFilter(r.Context(), route.ProjectFrom(r.Context()), work.SavedFilter{Name: name, Query: req.Query})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, f)
}

func (api *API) deleteFilter(w http.ResponseWriter, r *http.Request) error {
	name, err := pathValue(r, "name")
	if err != nil {
		return err
	}
	if err := api.work.DeleteFilter(r.Context(), route.ProjectFrom(r.Context()), name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
