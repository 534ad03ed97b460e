package blob

import (
	"bytes"
	"context"
	"strconv"
	"testing"
)

// BenchmarkUpload64MiB writes a 64 MiB artifact with one Put and as a
// multipart upload of 4 parts written in parallel and completed: the
// completion copies every byte once more, which is the price of taking
// parts out of order.
func BenchmarkUpload64MiB(b *testing.B) {
	const size, parts = 64 << 20, 4
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	ctx := context.Background()
	d, err := OpenDir(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.Run("put", func(b *testing.B) {
		b.SetBytes(size)
		for i := range b.N {
			if err := d.Put(ctx, "put/"+strconv.Itoa(i), bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("multipart", func(b *testing.B) {
		b.SetBytes(size)
		for i := range b.N {
			u, secret, err := d.CreateUpload(ctx, "mpu/"+strconv.Itoa(i), parts)
			if err != nil {
				b.Fatal(err)
			}
			errs := make(chan error, parts)
			for n := 1; n <= parts; n++ {
				go func() {
					chunk := data[(n-1)*size/parts : n*size/parts]
					_, err := d.PutPart(ctx, u.ID, secret, n, bytes.NewReader(chunk))
					errs <- err
				}()
			}
			var list []Part
			for n := 1; n <= parts; n++ {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
				list = append(list, Part{Number: n})
			}
			if err := d.CompleteUpload(ctx, u.ID, list); err != nil {
				b.Fatal(err)
			}
		}
	})
}
