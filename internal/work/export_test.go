package work

import "time"

// SetClock replaces the service's clock, so that the tests of package
// work_test can step a sprint through its days.
func (s *Service) SetClock(now func() time.Time) { s.now = now }
