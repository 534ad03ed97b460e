package httpapi

import (
	"net/http"
	"strconv"

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
