package web

import (
	"bytes"
	"html/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// md renders item descriptions. goldmark is CommonMark-compliant and, unless
// told otherwise (html.WithUnsafe), drops raw HTML and links with dangerous
// schemes (javascript:, vbscript:, file:, data: other than images), so user
// text cannot inject script into a page; the CSP is the second fence.
var md = goldmark.New(goldmark.WithExtensions(extension.GFM))

// markdown renders user Markdown to safe HTML.
func markdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(src), &buf); err != nil {
		// goldmark fails only on writer errors; show the text escaped.
		return template.HTML(template.HTMLEscapeString(src))
	}
	// Safe by construction: goldmark escapes text and omits raw HTML.
	return template.HTML(buf.String())
}
