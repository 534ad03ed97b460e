package mlflowapi

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

var fastBatchCases = []string{
	`{"run_id":"abc","metrics":[{"key":"loss","value":0.5,"timestamp":1700000000000,"step":3}],"params":[{"key":"lr","value":"0.01"}],"tags":[{"key":"t","value":"v"}]}`,
	` { "metrics" : [ { "step" : -1 , "timestamp" : 0 , "value" : -1.5e-3 , "key" : "a/b c" } , {"key":"x","value":1E+300,"timestamp":5} ] , "run_id" : "r" } `,
	`{"run_id":"r","metrics":[],"params":[],"tags":[]}`,
	`{}`,
	`{"run_id":"r","metrics":[{"key":"ü","value":0,"timestamp":1,"step":0}]}`,
	`{"run_id":"r","metrics":[{}]}`,
	// Shapes the fast path refuses; encoding/json decides.
	`{"run_id":"r","metrics":[{"key":"m","value":"NaN","timestamp":1}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":"Infinity","timestamp":1}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":null,"timestamp":1}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":1,"timestamp":"17"}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":1,"timestamp":1e3}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":1,"timestamp":1.5}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":1e400,"timestamp":1}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":1,"timestamp":99999999999999999999}]}`,
	`{"run_id":"r","metrics":[{"key":"m\u00e9","value":1,"timestamp":1}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":1,"timestamp":1,"extra":true}]}`,
	`{"run_id":"r","metrics":[{"key":"m","key":"n","value":1,"timestamp":1}]}`,
	`{"run_id":"r","run_id":"s"}`,
	`{"RUN_ID":"r","Metrics":[]}`,
	`{"run_uuid":"r"}`,
	`{"run_id":"r","metrics":null}`,
	`{"run_id":"r","metrics":[{"key":"m","value":01,"timestamp":1}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":-,"timestamp":1}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":1.,"timestamp":1}]}`,
	`{"run_id":"r","metrics":[{"key":"m","value":1,"timestamp":1},]}`,
	`{"run_id":"r",}`,
	`{"run_id":"r"} x`,
	`{"run_id":"r"}{}`,
	`{"run_id":"r"`,
	`{"run_id":"r\x01"}`,
	"{\"run_id\":\"\xff\"}",
	`{"run_id":7}`,
	`{"params":[{"key":"a","value":1}]}`,
	`[]`,
	``,
}

// checkFast asserts that whenever the fast decoder accepts a body,
// encoding/json accepts it too and decodes the same request.
func checkFast(t *testing.T, body string) {
	t.Helper()
	var fast logBatchReq
	if !decodeLogBatchFast([]byte(body), &fast) {
		return
	}
	var slow logBatchReq
	if err := json.Unmarshal([]byte(body), &slow); err != nil {
		t.Fatalf("fast path accepted %q, encoding/json refused it: %v", body, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q:\nfast %+v\njson %+v", body, fast, slow)
	}
}

func TestDecodeLogBatchFastMatchesEncodingJSON(t *testing.T) {
	accepted := 0
	for _, c := range fastBatchCases {
		checkFast(t, c)
		var r logBatchReq
		if decodeLogBatchFast([]byte(c), &r) {
			accepted++
		}
	}
	if accepted != 6 {
		t.Fatalf("fast path accepted %d of the cases, want the first 6", accepted)
	}
	// Mutations of the accepted shapes: drop, duplicate or replace bytes.
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`{}[],:"\ 0123456789.-+eE_xnul` + "\t\n\x00\xc3\xbc")
	for i := range 200000 {
		b := []byte(fastBatchCases[i%6])
		for range 1 + rng.IntN(3) {
			if len(b) == 0 {
				break
			}
			p := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b = append(b[:p:p], b[p+1:]...)
			case 1:
				b = append(b[:p+1:p+1], b[p:]...)
			default:
				b[p] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		checkFast(t, string(b))
	}
}

func FuzzDecodeLogBatchFast(f *testing.F) {
	for _, c := range fastBatchCases {
		f.Add(c)
	}
	f.Fuzz(checkFast)
}
