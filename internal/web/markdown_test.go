package web

import (
	"strings"
	"testing"
)

func TestMarkdownIsSafe(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		mustNot []string
	}{
		{"# Plan\n\n**bold** and `code`", []string{"<h1", "<strong>bold</strong>", "<code>code</code>"}, nil},
		{"<script>alert(1)</script>", nil, []string{"<script"}},
		{"hi <img src=x onerror=alert(1)>", nil, []string{"<img", "onerror"}},
		{"[click](javascript:alert(1))", nil, []string{"javascript:"}},
		{"[ok](https://example.org)", []string{`href="https://example.org"`}, nil},
		{"| a | b |\n|---|---|\n| 1 | 2 |", []string{"<table>"}, nil},
	}
	for _, tt := range tests {
		got := string(markdown(tt.in))
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("markdown(%q) = %q, want %q in it", tt.in, got, w)
			}
		}
		for _, n := range tt.mustNot {
			if strings.Contains(got, n) {
				t.Errorf("markdown(%q) = %q, must not contain %q", tt.in, got, n)
			}
		}
	}
}
