package work

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/trellisml/trellis/internal/project"
	"github.com/trellisml/trellis/internal/trellis"
)

// Comment is a Markdown comment on an item.
type Comment struct {
	ID        string    `json:"id"`
	ItemID    string    `json:"-"`
	Author    string    `json:"author"`
	Body      string    `json:"body"`
	Mentions  []string  `json:"mentions"`
	CreatedAt time.Time `json:"created_at"`
}

// Notification is an entry of a user's in-app inbox: a mention on an item,
// or a security notice about no item (Project, Item and Title empty).
type Notification struct {
	ID        string    `json:"id"`
	UserID    string    `json:"-"`
	ItemID    string    `json:"-"`
	Kind      string    `json:"kind"` // NotifyMention or NotifySecurity
	Project   string    `json:"project"`
	Item      string    `json:"item"`
	Title     string    `json:"title"`
	Actor     string    `json:"actor"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	Read      bool      `json:"read"`
}

// Notification kinds.
const (
	NotifyMention  = "mention"  // someone @mentioned the user on an item
	NotifySecurity = "security" // an alert for instance admins, e.g. a name guessed from many addresses
)

// Activity is one entry of a project's activity feed.
type Activity struct {
	Item  string    `json:"item"`
	Title string    `json:"title"`
	User  string    `json:"user"`
	Field string    `json:"field"`
	Old   string    `json:"old"`
	New   string    `json:"new"`
	At    time.Time `json:"at"`
}

// CommentStore is the persistence of comments, inboxes and the feed.
type CommentStore interface {
	// AddComment inserts the comment, a "comment" event on the item and the
	// notifications, in one transaction.
	AddComment(ctx context.Context, c *Comment, notes []*Notification) error
	FindComments(ctx context.Context, itemID string) ([]*Comment, error)
	// AddNotifications inserts notifications about no item.
	AddNotifications(ctx context.Context, notes []*Notification) error
	// FindInbox returns a user's notifications, newest first; Project,
	// Item and Title are filled from the item.
	FindInbox(ctx context.Context, userID string, limit int) ([]*Notification, error)
	MarkRead(ctx context.Context, userID string, at time.Time) error
	// FindActivity returns a project's item events, newest first; Item
	// holds the item number.
	FindActivity(ctx context.Context, projectID string, limit int) ([]*Activity, error)
}

var mentionRE = regexp.MustCompile(`(?:^|[^\w@])@([a-z0-9][a-z0-9._-]{0,63})`)

// Mentions returns the user names @mentioned in a Markdown text, once each.
func Mentions(body string) []string {
	var out []string
	for _, m := range mentionRE.FindAllStringSubmatch(strings.ToLower(body), -1) {
		name := strings.TrimRight(m[1], ".")
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// AddComment comments on an item of an authorized project. Every project
// member @mentioned gets an inbox notification (not the author); a mention
// of someone outside the project is left as text.
// Errors: EINVALID ("body"), ENOTFOUND.
func (s *Service) AddComment(ctx context.Context, proj *project.Project, ref, body string) (*Comment, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkText("body", body, 20000, true); err != nil {
		return nil, err
	}
	it, err := s.Item(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	members, err := s.store.FindMembers(ctx, proj.ID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	c := &Comment{ID: uuid.Must(uuid.NewV7()).String(), ItemID: it.ID, Author: p.User.Name, Body: body, Mentions: []string{}, CreatedAt: now}
	var notes []*Notification
	for _, name := range Mentions(body) {
		i := slices.IndexFunc(members, func(m *project.Member) bool { return m.UserName == name })
		if i < 0 {
			continue
		}
		c.Mentions = append(c.Mentions, name)
		if name == p.User.Name {
			continue
		}
		notes = append(notes, &Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: members[i].UserID, ItemID: it.ID, Kind: NotifyMention,
			Actor: p.User.Name, Text: p.User.Name + " mentioned you on " + it.Key, CreatedAt: now})
	}
	if err := s.store.AddComment(ctx, c, notes); err != nil {
		return nil, err
	}
	return c, nil
}

// NotifySecurity puts a security notice into each user's inbox; internal/cli
// sends the instance admins the alerts of the auth service with it.
func (s *Service) NotifySecurity(ctx context.Context, userIDs []string, actor, text string) error {
	now := s.now().UTC()
	notes := make([]*Notification, len(userIDs))
	for i, id := range userIDs {
		notes[i] = &Notification{ID: uuid.Must(uuid.NewV7()).String(), UserID: id, Kind: NotifySecurity, Actor: actor, Text: text, CreatedAt: now}
	}
	return s.store.AddNotifications(ctx, notes)
}

// Comments lists an item's comments, oldest first.
func (s *Service) Comments(ctx context.Context, proj *project.Project, ref string) ([]*Comment, error) {
	it, err := s.Item(ctx, proj, ref)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.FindComments(ctx, it.ID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		c.Mentions = Mentions(c.Body)
	}
	return cs, nil
}

// Inbox returns the caller's notifications, newest first.
func (s *Service) Inbox(ctx context.Context) ([]*Notification, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.FindInbox(ctx, p.User.ID, 200)
}

// MarkInboxRead marks all the caller's notifications read.
func (s *Service) MarkInboxRead(ctx context.Context) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if !p.CanWrite() {
		return trellis.Errorf(trellis.EFORBIDDEN, "A read-only token cannot change the inbox.")
	}
	return s.store.MarkRead(ctx, p.User.ID, s.now().UTC())
}

// ActivityFeed returns the project's latest changes, newest first.
func (s *Service) ActivityFeed(ctx context.Context, proj *project.Project, limit int) ([]*Activity, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	as, err := s.store.FindActivity(ctx, proj.ID, limit)
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		a.Item = proj.Key + "-" + a.Item
	}
	return as, nil
}
