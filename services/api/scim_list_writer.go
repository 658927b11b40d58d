package api

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/segmentio/encoding/json"
)

// writeSCIMList writes a list response as writeSCIM would, a resource at a
// time: encoded whole, a page of 1,000 users was a 0.8 MB buffer that grew
// from empty whenever a collection had emptied the encoder's pool (half
// the api's time of a page in BenchmarkSCIMPage went to growing it).
func writeSCIMList(w http.ResponseWriter, l scimListResponse) {
	scimHeaders(w)
	w.WriteHeader(http.StatusOK)
	buf := listBuffers.Get().(*[]byte)
	defer listBuffers.Put(buf)
	b := append((*buf)[:0], `{"schemas":`...)
	b, err := json.Append(b, l.Schemas, scimFlags)
	if err != nil {
		return
	}
	b = append(b, `,"totalResults":`...)
	b = strconv.AppendInt(b, int64(l.TotalResults), 10)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendInt(b, int64(l.StartIndex), 10)
	b = append(b, `,"itemsPerPage":`...)
	b = strconv.AppendInt(b, int64(l.ItemsPerPage), 10)
	b = append(b, `,"Resources":[`...)
	for i, r := range l.Resources {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = json.Append(b, r, scimFlags); err != nil {
			return
		}
		if len(b) >= listFlushBytes {
			if _, err := w.Write(b); err != nil {
				return
			}
			b = b[:0]
		}
	}
	b = append(b, "]}\n"...)
	_, _ = w.Write(b)
	*buf = b
}

// scimFlags are json.Encoder's own (writeSCIM's).
const scimFlags = json.EscapeHTML | json.SortMapKeys

const listFlushBytes = 32 << 10

var listBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2*listFlushBytes); return &b }}
