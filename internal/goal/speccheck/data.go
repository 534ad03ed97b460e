package speccheck

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// InputError is a problem with a spec's input: a feature file that does not
// parse or bind, or a labels or predictions file with a bad row. File and
// Line (and Column, when known) point at it; the CLI exits 2 on it.
type InputError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Error formats the error as file:line:column: message, the form editors
// and CI annotations link from.
func (e *InputError) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return e.File + ": " + e.Msg
	case e.Column == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
}

func inputErrorf(file string, line int, format string, args ...any) *InputError {
	return &InputError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Columns names the columns that join labels to predictions.
type Columns struct {
	ID         string // in both files; default "id"
	Label      string // in the labels file; default "label"
	Prediction string // in the predictions file; default "prediction"
}

// DefaultColumns are the column names used unless a step says otherwise.
var DefaultColumns = Columns{ID: "id", Label: "label", Prediction: "prediction"}

// Progress is told how far through a file loading is; the CLI draws a bar
// with it. It is called every few hundred kilobytes, not per row.
type Progress func(file string, read, size int64)

// format is a row file's format.
type format int

const (
	formatCSV format = iota
	formatJSONL
)

// detectFormat picks the format by extension and, for anything else
// (.json, .txt, no extension), by sniffing the first non-blank byte: JSON
// Lines rows start with '{'.
func detectFormat(path string, r *bufio.Reader) format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return formatCSV
	case ".jsonl", ".ndjson":
		return formatJSONL
	}
	for n := 1; n <= 4096; n++ {
		b, err := r.Peek(n)
		if len(b) < n || err != nil {
			break
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF: // blanks and a UTF-8 BOM
			continue
		case '{':
			return formatJSONL
		default:
			return formatCSV
		}
	}
	return formatCSV
}

// rows streams (id, value) pairs from a CSV or JSON Lines file.
type rows interface {
	// next returns the next row's id and value and its line number, or
	// io.EOF after the last row.
	next() (id, value string, line int, err error)
}

// openRows opens path and returns its rows for the id and value columns.
func openRows(path, idCol, valCol string, progress Progress) (rows, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &InputError{File: path, Msg: "cannot open: " + pathErrorReason(err)}
	}
	var src io.Reader = f
	if progress != nil {
		if st, err := f.Stat(); err == nil {
			src = &countingReader{r: f, file: path, size: st.Size(), progress: progress}
		}
	}
	br := bufio.NewReaderSize(src, 256<<10)
	var r rows
	switch detectFormat(path, br) {
	case formatJSONL:
		r = &jsonlRows{r: br, file: path, idCol: idCol, valCol: valCol}
	default:
		r, err = newCSVRows(br, path, idCol, valCol)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return r, f.Close, nil
}

func pathErrorReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

type countingReader struct {
	r        io.Reader
	file     string
	read     int64
	size     int64
	last     int64
	progress Progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	if c.read-c.last >= 256<<10 || err == io.EOF {
		c.last = c.read
		c.progress(c.file, c.read, c.size)
	}
	return n, err
}

type csvRows struct {
	r          *csv.Reader
	file       string
	idAt, vaAt int
}

func newCSVRows(br *bufio.Reader, file, idCol, valCol string) (*csvRows, error) {
	r := csv.NewReader(br)
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, inputErrorf(file, 0, "empty file: expected a CSV header with columns %q and %q", idCol, valCol)
	}
	if err != nil {
		return nil, csvError(file, err)
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	}
	c := &csvRows{r: r, file: file, idAt: -1, vaAt: -1}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == idCol && c.idAt < 0 {
			c.idAt = i
		}
		if h == valCol && c.vaAt < 0 {
			c.vaAt = i
		}
	}
	for _, m := range []struct {
		at  int
		col string
	}{{c.idAt, idCol}, {c.vaAt, valCol}} {
		if m.at < 0 {
			return nil, inputErrorf(file, 1, "no column %q in the header (columns: %s)", m.col, strings.Join(header, ", "))
		}
	}
	return c, nil
}

func csvError(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &InputError{File: file, Line: pe.Line, Column: pe.Column, Msg: pe.Err.Error()}
	}
	return inputErrorf(file, 0, "read: %v", err)
}

func (c *csvRows) next() (string, string, int, error) {
	rec, err := c.r.Read()
	if err != nil {
		if err == io.EOF {
			return "", "", 0, io.EOF
		}
		return "", "", 0, csvError(c.file, err)
	}
	line, _ := c.r.FieldPos(0)
	return rec[c.idAt], rec[c.vaAt], line, nil
}

type jsonlRows struct {
	r             *bufio.Reader
	file          string
	idCol, valCol string
	line          int
	id, val       []byte // raw JSON values of the two columns in the current row
}

// maxJSONLine bounds one JSON Lines row, so a file without newlines cannot
// take all memory.
const maxJSONLine = 16 << 20

func (j *jsonlRows) next() (string, string, int, error) {
	for {
		b, err := j.readLine()
		if err != nil {
			return "", "", 0, err
		}
		j.line++
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		// json.Valid checks the row without allocating; the fields are then
		// picked out of the top-level object directly, which is several
		// times faster than decoding every row into a map.
		if !json.Valid(b) || b[0] != '{' {
			var v map[string]json.RawMessage
			err := json.Unmarshal(b, &v)
			if err == nil {
				err = errors.New("not an object")
			}
			return "", "", 0, inputErrorf(j.file, j.line, "not a JSON object: %v", jsonReason(err))
		}
		j.topLevel(b)
		id, err := j.field(j.idCol, j.id)
		if err != nil {
			return "", "", 0, err
		}
		v, err := j.field(j.valCol, j.val)
		if err != nil {
			return "", "", 0, err
		}
		return id, v, j.line, nil
	}
}

// topLevel finds the raw values of the id and value columns in b, a valid
// JSON object. Later duplicates of a key win, as in encoding/json.
func (j *jsonlRows) topLevel(b []byte) {
	j.id, j.val = nil, nil
	i := 1 // after '{'
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] == '}' {
			return
		}
		if b[i] == ',' {
			i++
			continue
		}
		kEnd := skipString(b, i)
		key := b[i:kEnd]
		i = skipSpace(b, kEnd) + 1 // past ':'
		i = skipSpace(b, i)
		vEnd := skipValue(b, i)
		if keyIs(key, j.idCol) {
			j.id = b[i:vEnd]
		}
		if keyIs(key, j.valCol) {
			j.val = b[i:vEnd]
		}
		i = vEnd
	}
}

// keyIs reports whether the quoted JSON key equals name.
func keyIs(quoted []byte, name string) bool {
	if len(quoted) == len(name)+2 && string(quoted[1:len(quoted)-1]) == name {
		return true
	}
	if bytes.IndexByte(quoted, '\\') < 0 {
		return false
	}
	var k string
	return json.Unmarshal(quoted, &k) == nil && k == name
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	switch {
	case i >= len(b):
		return len(b)
	case b[i] == '"':
		return skipString(b, i)
	case b[i] == '{' || b[i] == '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ' ' && b[i] != '\t' && b[i] != '\r' && b[i] != '\n' {
		i++
	}
	return i
}

func jsonReason(err error) string {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return "the row is a JSON " + ute.Value + ", not an object"
	}
	return err.Error()
}

func (j *jsonlRows) readLine() ([]byte, error) {
	var buf []byte
	for {
		b, err := j.r.ReadSlice('\n')
		if len(buf)+len(b) > maxJSONLine {
			return nil, inputErrorf(j.file, j.line+1, "line longer than %d bytes", maxJSONLine)
		}
		if err == bufio.ErrBufferFull {
			buf = append(buf, b...)
			continue
		}
		if buf != nil {
			b = append(buf, b...)
		}
		if err == io.EOF {
			if len(b) == 0 {
				return nil, io.EOF
			}
			return b, nil
		}
		if err != nil {
			return nil, inputErrorf(j.file, j.line+1, "read: %v", err)
		}
		return b, nil
	}
}

// field returns a column's raw JSON value as text: strings as they are,
// numbers and booleans as written; null, objects and arrays are errors.
func (j *jsonlRows) field(col string, raw []byte) (string, error) {
	switch {
	case raw == nil:
		return "", inputErrorf(j.file, j.line, "no field %q in the row", col)
	case raw[0] == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]), nil
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", inputErrorf(j.file, j.line, "field %q: %v", col, err)
		}
		return s, nil
	case string(raw) == "null":
		return "", inputErrorf(j.file, j.line, "field %q is null", col)
	case raw[0] == '{' || raw[0] == '[':
		return "", inputErrorf(j.file, j.line, "field %q must be a string, number or boolean", col)
	}
	return string(raw), nil
}

// Task is what the predictions are scored as.
type Task string

// The tasks a spec can score predictions as.
const (
	TaskClassification Task = "classification"
	TaskRegression     Task = "regression"
)

// Scores are the metrics computed from joined labels and predictions.
type Scores struct {
	Task       Task
	N          int64
	Confusion  *Confusion  // classification
	Regression *Regression // regression
}

// maxListedIDs is how many missing ids an error names.
const maxListedIDs = 5

// Score joins the labels and predictions files on the id column and scores
// them as task. Every label must have exactly one prediction and every
// prediction a label: an id missing on either side is an error with the
// count and the first ids, never a silent drop; a duplicate id is an error
// naming both lines. The labels are held in memory (ids and class indexes);
// the predictions stream.
func Score(labelsPath, predsPath string, cols Columns, task Task, progress Progress) (*Scores, error) {
	lr, closeL, err := openRows(labelsPath, cols.ID, cols.Label, progress)
	if err != nil {
		return nil, err
	}
	defer closeL()
	s := &Scores{Task: task}
	var (
		index   = make(map[string]int32, 1024)
		ids     []string
		lines   []int32
		classes []int32   // classification: label class per label row
		values  []float64 // regression: label value per label row
	)
	if task == TaskClassification {
		s.Confusion = NewConfusion()
	} else {
		s.Regression = &Regression{}
	}
	for {
		id, v, line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, inputErrorf(labelsPath, line, "empty id in column %q", cols.ID)
		}
		if first, dup := index[id]; dup {
			return nil, inputErrorf(labelsPath, line, "duplicate id %q (first on line %d)", id, lines[first])
		}
		if len(ids) >= 1<<31-1 {
			return nil, inputErrorf(labelsPath, line, "too many rows")
		}
		index[id] = int32(len(ids))
		ids = append(ids, id)
		lines = append(lines, int32(line))
		if task == TaskClassification {
			if v == "" {
				return nil, inputErrorf(labelsPath, line, "empty label in column %q", cols.Label)
			}
			classes = append(classes, int32(s.Confusion.Class(v)))
		} else {
			f, err := parseValue(v)
			if err != nil {
				return nil, inputErrorf(labelsPath, line, "label %q in column %q is not a number", v, cols.Label)
			}
			values = append(values, f)
		}
	}
	pr, closeP, err := openRows(predsPath, cols.ID, cols.Prediction, progress)
	if err != nil {
		return nil, err
	}
	defer closeP()
	predLine := make([]int32, len(ids)) // 0: no prediction yet
	var unlabelled []string
	unlabelledLine := map[string]int{}
	var nUnlabelled int
	for {
		id, v, line, err := pr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, inputErrorf(predsPath, line, "empty id in column %q", cols.ID)
		}
		i, ok := index[id]
		if !ok {
			if first, dup := unlabelledLine[id]; dup {
				return nil, inputErrorf(predsPath, line, "duplicate id %q (first on line %d)", id, first)
			}
			unlabelledLine[id] = line
			nUnlabelled++
			if len(unlabelled) < maxListedIDs {
				unlabelled = append(unlabelled, id)
			}
			continue
		}
		if predLine[i] != 0 {
			return nil, inputErrorf(predsPath, line, "duplicate id %q (first on line %d)", id, predLine[i])
		}
		predLine[i] = int32(line)
		if task == TaskClassification {
			if v == "" {
				return nil, inputErrorf(predsPath, line, "empty prediction in column %q", cols.Prediction)
			}
			s.Confusion.AddIndex(int(classes[i]), s.Confusion.Class(v))
		} else {
			f, err := parseValue(v)
			if err != nil {
				return nil, inputErrorf(predsPath, line, "prediction %q in column %q is not a number", v, cols.Prediction)
			}
			s.Regression.Add(values[i], f)
		}
		s.N++
	}
	var problems []string
	if missing := int64(len(ids)) - s.N; missing > 0 {
		var first []string
		for i, l := range predLine {
			if l == 0 {
				first = append(first, strconv.Quote(ids[i]))
				if len(first) == maxListedIDs {
					break
				}
			}
		}
		problems = append(problems, fmt.Sprintf("%d %s in %s %s no prediction in %s (first: %s)",
			missing, plural(missing, "id", "ids"), labelsPath, plural(missing, "has", "have"), predsPath, strings.Join(first, ", ")))
	}
	if nUnlabelled > 0 {
		q := make([]string, len(unlabelled))
		for i, id := range unlabelled {
			q[i] = strconv.Quote(id)
		}
		n := int64(nUnlabelled)
		problems = append(problems, fmt.Sprintf("%d %s in %s %s no label in %s (first: %s)",
			n, plural(n, "id", "ids"), predsPath, plural(n, "has", "have"), labelsPath, strings.Join(q, ", ")))
	}
	if len(problems) > 0 {
		return nil, &InputError{Msg: strings.Join(problems, "; ")}
	}
	if s.Confusion != nil {
		s.Confusion.Sort()
	}
	return s, nil
}

func parseValue(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, err
	}
	if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
		return 0, errors.New("not finite")
	}
	return f, nil
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
