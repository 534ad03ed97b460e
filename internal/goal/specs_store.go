package goal

// SpecStore keeps specs attached to items, their versions and the latest
// result of each scenario.
type SpecStore interface{}
