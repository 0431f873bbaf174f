/*
 * ui_unlock.c - the app's unlock page: the store's passphrase, asked once
 * per launch when no agent holds the store's keys (see unlock.h).
 *
 * The passphrase goes from the form to ctx_unlock and is wiped; the keys
 * stay in the app's memory until it closes. So that the sync the app runs
 * in a child process can open the store too, the app then keeps an agent
 * of its own (ui_share_keys), ended when the app closes.
 */
#include <string.h>

#include "sec.h"
#include "ui.h"

static void
unlock_page(struct ui_req *r, int status, const char *sentence)
{
	struct html b;

	html_init(&b);
	html_m(&b, "<h1>Unlock the records</h1>");
	if (sentence != NULL)
		html_f(&b, "<p role=\"alert\" class=\"error\">%s</p>", sentence);
	html_m(&b, "<p>The records on this computer are encrypted. Type the "
	    "passphrase you chose at setup; the app keeps it unlocked until "
	    "it closes.</p><form method=\"post\" action=\"/unlock\">");
	ui_csrf_field(r, &b);
	/* back where the person was going, if it is a page of ours */
	if (r->path[0] == '/' && r->path[1] != '/' && !r->post)
		html_f(&b, "<input type=\"hidden\" name=\"next\" value=\"%s\">",
		    r->path);
	html_m(&b, "<p><label for=\"passphrase\">Passphrase</label> <input "
	    "type=\"password\" id=\"passphrase\" name=\"passphrase\" "
	    "autocomplete=\"off\" required autofocus></p><p><button "
	    "type=\"submit\">Unlock</button></p></form><p>Forgotten? Your "
	    "manager keeps the recovery key: pcmds recover sets a new "
	    "passphrase with it, and keeps every record.</p>");
	ui_page(r, status, "Unlock", &b);
	html_free(&b);
}

int
ui_locked(struct ui_req *r)
{
	if (ctx_needs_unlock(r->ui->c) != 1)
		return 0;
	unlock_page(r, r->post ? 403 : 200, r->post ? "The records are "
	    "locked, so nothing was changed: unlock them, then fill in the "
	    "form again." : NULL);
	return 1;
}

void
ui_share_keys(struct ui *u)
{
	struct err_list errs;

	if (!u->shares_keys)
		return;
	err_init(&errs);
	/* again each time: an idle agent may have ended meanwhile */
	(void)ctx_share(u->c, u->idle_s, &errs);
	err_free(&errs);
}

void
ui_unlock_post(struct ui_req *r)
{
	const char *pass = ui_form(r, "passphrase"), *next = ui_form(r, "next");
	struct err_list errs;
	pc_rc rc;

	if (ctx_needs_unlock(r->ui->c) != 1) {
		ui_redirect(r, "/");
		return;
	}
	if (pass == NULL || pass[0] == '\0') {
		unlock_page(r, 400, "Type the passphrase.");
		return;
	}
	err_init(&errs);
	rc = ctx_unlock(r->ui->c, pass, strlen(pass), &errs);
	/* the form's copy, in libevent's list, is ours to wipe */
	sec_wipe((char *)pass, strlen(pass));
	if (rc != PC_OK) {
		unlock_page(r, rc == PC_EBUSY ? 429 : 403, errs.n > 0 ?
		    errs.v[0].msg : "The records could not be unlocked.");
		err_free(&errs);
		return;
	}
	err_free(&errs);
	r->ui->shares_keys = 1;
	ui_share_keys(r->ui);
	ui_redirect(r, next != NULL && next[0] == '/' && next[1] != '/' &&
	    strchr(next, '\\') == NULL ? next : "/");
}
