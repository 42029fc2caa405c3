package dialect

import "testing"

func TestDialectText(t *testing.T) {
	for _, tc := range []struct{ dialect, in, want string }{
		{"ammds", `{"t":"{{title}}","m":"{{ message }}","s":"{{sign}}"}`, `{"t":"{{.Title}}","m":"{{ .Message }}","s":"{{.Sign}}"}`},
		{"ammds", `{{type}}{{subTitle}}{{time}}{{logo}}{{image}}`, `{{.Type}}{{.SubTitle}}{{.Time}}{{.Logo}}{{.Image}}`},
		// Go actions and unknown words are left for the template parser.
		{"ammds", `{{ .Title | toUpper }} {{titles}} {{ title .X }}`, `{{ .Title | toUpper }} {{titles}} {{ title .X }}`},
		{"api7", `{{title}}`, `{{title}}`},
		{"alertmanager", `{{ message }}`, `{{ message }}`},
	} {
		if got := Text(tc.dialect, tc.in); got != tc.want {
			t.Errorf("DialectText(%s, %q) = %q, want %q", tc.dialect, tc.in, got, tc.want)
		}
	}
}
