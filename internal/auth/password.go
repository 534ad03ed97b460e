package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/trellisml/trellis/internal/trellis"
)

// Password length bounds. The upper bound keeps argon2id's input sane and
// stops a megabyte "password" from being a denial of service.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// HashParams are argon2id cost parameters.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultHashParams follow OWASP's argon2id recommendation (19 MiB, t=2, p=1):
// about 20–40 ms on a laptop core, which is why HTTP basic caches successes.
var DefaultHashParams = HashParams{Memory: 19 * 1024, Time: 2, Threads: 1}

//go:embed common_passwords.txt
var commonPasswordsText string

// commonPasswords holds, lowercased, passwords that attackers try first and
// that are long enough to pass the length rule.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" && !strings.HasPrefix(w, "#") {
			m[strings.ToLower(w)] = true
		}
	}
	return m
}()

// CheckPassword enforces the password policy for user name.
func CheckPassword(name, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return trellis.Invalid("password", "password must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return trellis.Invalid("password", "password must be at most %d characters", MaxPasswordLen)
	case commonPasswords[strings.ToLower(password)]:
		return trellis.Invalid("password", "password is on the list of most common passwords; choose another")
	case name != "" && utf8.RuneCountInString(strings.ReplaceAll(strings.ToLower(password), strings.ToLower(name), "")) < 8:
		return trellis.Invalid("password", "password must not be built around the username")
	}
	return nil
}

// HashPassword returns the argon2id hash of password in the PHC string format.
func HashPassword(password string, p HashParams) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC-encoded hash.
// The parameters come from the hash, so raising the cost later keeps old
// hashes valid.
func VerifyPassword(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var p HashParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
