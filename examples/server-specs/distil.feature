Feature: Distil into a smaller backbone
  The server checks this spec against the latest run linked to BAL-19
  whenever one finishes: no files needed.

  Scenario: the student keeps up with the teacher
    Given the latest run of item "BAL-19"
    Then metric "recall" should be at least 0.76
    And metric "p95_latency_ms" should be at most 80
