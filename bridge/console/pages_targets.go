package console

import "net/http"

// targetsPage lists every target as GET /api/v1/targets does, with a
// test-send button per enabled target when the admin API is on.
func (c *Console) targetsPage(w http.ResponseWriter, _ *http.Request) {
	c.render(w, http.StatusOK, "targets", "Targets", c.b.TargetStatuses())
}
