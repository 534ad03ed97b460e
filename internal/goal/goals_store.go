package goal

// GoalStore keeps goals attached to items and projects.
type GoalStore interface{}
