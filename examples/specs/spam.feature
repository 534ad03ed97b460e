# An acceptance spec for a spam filter, written before the model exists.
@spam
Feature: Spam filter acceptance
  The filter must catch spam without hiding real mail.

  Background:
    Given labels from "data/labels.csv"
    And predictions from "data/predictions.csv"
    When the predictions are scored as classification

  @smoke
  Scenario: Overall quality
    Then accuracy should be at least 85%
    And macro f1 should be at least 0.8

  Scenario Outline: Precision per class
    Then precision for class "<class>" should be at least <minimum>

    Examples:
      | class | minimum |
      | ham   | 0.9     |
      | spam  | 0.95    |

  Rule: Real mail is never lost
    Scenario: Few false alarms
      Then the number of false positives for class "spam" should be at most 1
      And at least 5 items should be predicted as "spam"
