package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestImportPage(t *testing.T) {
	e := newEnv(t)
	s := e.mustUser("ada", false)
	e.mustProject(s, "BAL", "Balloons")
	upload := func(csv, mapping string) *httptest.ResponseRecorder {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "backlog.csv")
		fw.Write([]byte(csv))
		mw.WriteField("mapping", mapping)
		mw.Close()
		return e.do(req{method: http.MethodPost, target: "/p/BAL/import", session: s, body: &body, header: map[string]string{"Content-Type": mw.FormDataContentType()}})
	}
	w := upload("Summary,Issue Type,Story Points\nGood,Story,3\nBad,Saga,\n", "jira")
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, "1 rows refused; nothing was imported", "<td>3</td><td>kind</td>")
	w = upload("Summary,Issue Type,Story Points\nGood,Story,3\n", "jira")
	wantRedirect(t, w, "/p/BAL/import?imported=1")
	wantBody(t, e.get("/p/BAL/import?imported=1", s), "Imported 1 items.")
	wantNoBody(t, e.get("/p/BAL/import?imported=%3Cb%3E", s), "Imported")
}
