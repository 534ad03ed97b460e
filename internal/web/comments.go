package web

import (
	"html/template"
	"net/http"

	"github.com/trellisml/trellis/internal/route"
	"github.com/trellisml/trellis/internal/work"
)

// renderedComment is a comment with its Markdown rendered.
type renderedComment struct {
	*work.Comment
	HTML template.HTML
}

// itemComment adds a comment from the item page.
func (ui *UI) itemComment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	proj := route.ProjectFrom(r.Context())
	ref := r.PathValue("item")
	if _, err := ui.work.AddComment(r.Context(), proj, ref, r.PostForm.Get("body")); err != nil {
		cf := newForm(r.PostForm)
		if status, ok := formError(&cf, err, map[string]string{"body": "body"}); ok {
			return ui.renderItem(w, r, status, ref, itemForms{CommentForm: cf})
		}
		return err
	}
	return redirect(w, r, itemURL(proj, ref, "comment-added")+"#comments")
}

type activityView struct {
	layout
	Activity []*work.Activity
}

// activityPage is the project's activity feed.
func (ui *UI) activityPage(w http.ResponseWriter, r *http.Request) error {
	proj := route.ProjectFrom(r.Context())
	as, err := ui.work.ActivityFeed(r.Context(), proj, 200)
	if err != nil {
		return err
	}
	return ui.render(w, http.StatusOK, "activity", &activityView{layout: ui.base(r, "Activity · "+proj.Name, "backlog"), Activity: as})
}

type inboxView struct {
	layout
	Notifications []*work.Notification
	Unread        int
}

// inboxPage lists the signed-in user's notifications.
func (ui *UI) inboxPage(w http.ResponseWriter, r *http.Request) error {
	ns, err := ui.work.Inbox(r.Context())
	if err != nil {
		return err
	}
	v := &inboxView{layout: ui.base(r, "Inbox", "inbox"), Notifications: ns}
	for _, n := range ns {
		if !n.Read {
			v.Unread++
		}
	}
	return ui.render(w, http.StatusOK, "inbox", v)
}

func (ui *UI) inboxRead(w http.ResponseWriter, r *http.Request) error {
	if err := ui.work.MarkInboxRead(r.Context()); err != nil {
		return err
	}
	return redirect(w, r, "/inbox")
}
