/* SPDX-License-Identifier: ISC */
/*
 * Password checks: PAM, or a passwd(5)-format file of crypt(3) hashes,
 * each reduced to AUTH_OK, AUTH_FAIL or AUTH_TEMPFAIL; for APOP, the
 * secrets file read here and its bytes handed to apop.c.
 * Runs as root in a short-lived child of the monitor (or as the serving
 * user when pop3d was not started as root), so that PAM module state and
 * every copy of the password die with that child. Nothing here reads the
 * network: the user name and password were parsed by the pre-auth child.
 */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <shadow.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "apop.h"
#include "auth.h"
#include "cred.h"
#include "params.h"
#include "trusted.h"

/* name:hash:uid:gid:gecos:home:shell */
#define PASSWD_FIELDS		7

/* 4294967294 has ten digits; more can only be an overflow attempt. */
#define ID_DIGITS_MAX		10
#define ID_MAX			4294967294ULL

/*
 * glibc's sysconf(_SC_GETPW_R_SIZE_MAX) answers 1024 or -1; a long gecos
 * field needs more, so ERANGE doubles the buffer up to PW_BUF_MAX.
 */
#define PW_BUF_FALLBACK		16384
#define PW_BUF_MAX		(1024 * 1024)

/*
 * Hash of a random password nobody knows, with Debian's default yescrypt
 * cost (mkpasswd -m yescrypt, chpasswd). An unknown user, a locked account
 * and uid 0 are checked against it, so that they cost one hash like a
 * wrong password does and the reply time does not tell which names exist.
 * If the site's hashes use another cost, this should use the same one.
 */
#define DUMMY_HASH \
	"$y$j9T$OTcR7TqFOspiJrH5bq4tX/$vTa2EzCWzAIHvN/QxmcvVvGQxdz8XWw3JcATH9pzGw8"

/* What the PAM conversation may give away. */
struct conv_data {
	const char	*pass;
};

struct field {
	const char	*p;
	size_t		 len;
};

/*
 * Splits (line, len) at ':' into exactly PASSWD_FIELDS fields. A NUL byte
 * is refused: C string functions would see a different name than we do.
 */
static int
split_fields(const char *line, size_t len, struct field *f)
{
	size_t i, n = 0, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && line[i] == '\0') {
			return -1;
		}
		if (i < len && line[i] != ':') {
			continue;
		}
		if (n == PASSWD_FIELDS) {
			return -1;
		}
		f[n].p = line + start;
		f[n].len = i - start;
		n++;
		start = i + 1;
	}
	return n == PASSWD_FIELDS ? 0 : -1;
}

/*
 * Decimal digits only: strtoul() would take a sign, blanks and wrap
 * around. (uid_t)-1 means "no change" to setresuid() and is refused.
 */
static int
parse_id(const struct field *f, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (f->len == 0 || f->len > ID_DIGITS_MAX) {
		return -1;
	}
	for (i = 0; i < f->len; i++) {
		if (f->p[i] < '0' || f->p[i] > '9') {
			return -1;
		}
		v = v * 10 + (uint64_t)(f->p[i] - '0');
	}
	if (v > ID_MAX) {
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* uid_t and gid_t must hold every value parse_id() lets through. */
_Static_assert(sizeof(uid_t) >= sizeof(uint32_t), "uid_t too small");
_Static_assert(sizeof(gid_t) >= sizeof(uint32_t), "gid_t too small");

int
passwd_parse_line(const char *line, size_t len, struct account *acct,
    const char **hash, size_t *hashlen)
{
	struct field f[PASSWD_FIELDS];
	uint32_t uid, gid;

	if (line == NULL || split_fields(line, len, f) == -1) {
		return -1;
	}
	if (f[0].len == 0 || f[0].len > USER_MAX ||
	    f[5].len > HOME_MAX - 1) {
		return -1;
	}
	if (parse_id(&f[2], &uid) == -1 || parse_id(&f[3], &gid) == -1) {
		return -1;
	}
	/* Whole, unused bytes too: the account is copied across processes. */
	memset(acct, 0, sizeof(*acct));
	memcpy(acct->name, f[0].p, f[0].len);
	acct->name[f[0].len] = '\0';
	memcpy(acct->home, f[5].p, f[5].len);
	acct->home[f[5].len] = '\0';
	acct->uid = (uid_t)uid;
	acct->gid = (gid_t)gid;
	*hash = f[1].p;
	*hashlen = f[1].len;
	return 0;
}

/*
 * Reads the whole file into *bufp, opened under the same rule as at start
 * (trusted.h), which is checked again here: the file or a directory above
 * it may have changed hands since. One spare byte shows whether the file
 * grew after fstat(): it is being rewritten, so try again later.
 */
int
auth_read_file(const char *path, char **bufp, size_t *lenp, const char **why)
{
	struct stat st;
	char *buf = NULL;
	size_t size = 0, len = 0;
	ssize_t n;
	int fd;

	if ((fd = trusted_open(path, &st, why)) == -1) {
		return -1;
	}
	if (st.st_size < 0 || st.st_size > PASSWD_FILE_MAX) {
		*why = "password file too large";
		goto fail;
	}
	size = (size_t)st.st_size + 1;
	if ((buf = malloc(size)) == NULL) {
		*why = "out of memory";
		goto fail;
	}
	while (len < size) {
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			*why = "password file read error";
			goto fail;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	if (len == size) {
		*why = "password file changed while read";
		goto fail;
	}
	close(fd);
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	if (buf != NULL) {
		explicit_bzero(buf, size);
		free(buf);
	}
	close(fd);
	return -1;
}

/*
 * First line whose name is exactly user, as getpwnam() would pick.
 * Malformed lines are skipped: one typo must not lock every other account
 * out. The out-parameters are written only for the line that matches.
 */
static int
file_find(const char *buf, size_t len, const char *user, struct account *a,
    const char **hash, size_t *hashlen)
{
	struct account cand;
	const char *line, *h;
	size_t pos = 0, linelen, hlen, ulen = strlen(user);

	while (cred_next_line(buf, len, &pos, &line, &linelen)) {
		if (passwd_parse_line(line, linelen, &cand, &h, &hlen) == 0 &&
		    strlen(cand.name) == ulen &&
		    memcmp(cand.name, user, ulen) == 0) {
			*a = cand;
			*hash = h;
			*hashlen = hlen;
			return 1;
		}
	}
	return 0;
}

/*
 * The uid the passwd file gives user, for the monitor's check that it can
 * serve that account before any password is (as getpwnam() is with PAM).
 * 1 and *uid if found, 0 if not; -1 if the file cannot be read (the
 * worker then says why).
 */
int
auth_file_uid(const char *path, const char *user, uid_t *uid)
{
	struct account a;
	const char *hash, *why;
	char *buf = NULL;
	size_t len = 0, hashlen;
	int found;

	if (auth_read_file(path, &buf, &len, &why) == -1) {
		return -1;
	}
	found = file_find(buf, len, user, &a, &hash, &hashlen);
	if (found) {
		*uid = a.uid;
	}
	explicit_bzero(buf, len);
	free(buf);
	return found;
}

/*
 * Why a stored hash refuses a password login; NULL when it does not. An
 * empty hash would let anyone in, and no crypt(3) hash begins with '!'
 * or '*': those mark a locked or disabled password (passwd(5), shadow(5)).
 */
static const char *
hash_refuses(const char *hash, size_t hashlen)
{
	if (hashlen == 0) {
		return "empty password hash";
	}
	if (hash[0] == '!' || hash[0] == '*') {
		return "account locked";
	}
	return NULL;
}

/*
 * The same for APOP, whose secret is kept elsewhere. usermod -L and
 * passwd -l lock a password by putting '!' before it ("!$y$...", "!!",
 * "!*"): refused. A field of exactly "!" or "*" holds no password at all
 * (useradd's default, a directory user): that is what an APOP-only
 * account looks like, so it is allowed; expiry is the account step's.
 */
static const char *
apop_hash_refuses(const char *hash, size_t hashlen)
{
	if (hashlen == 1 && (hash[0] == '!' || hash[0] == '*')) {
		return NULL;
	}
	return hash_refuses(hash, hashlen);
}

/* Why the stored hash cannot be used; NULL when it can. */
static const char *
unusable(const struct account *a, const char *hash, size_t hashlen)
{
	const char *reason;

	if (a == NULL) {
		return "unknown user";
	}
	if (a->uid == 0) {
		return "uid 0 refused";
	}
	if ((reason = hash_refuses(hash, hashlen)) != NULL) {
		return reason;
	}
	if (hashlen >= CRYPT_OUTPUT_SIZE) {
		return "unsupported hash";
	}
	return NULL;
}

/* crypt_rn() fails with EINVAL or ENOSYS for settings it does not know. */
static enum auth_result
crypt_failure(int err, const char **why)
{
	if (err == ENOMEM) {
		*why = "out of memory";
		return AUTH_TEMPFAIL;
	}
	*why = "unsupported hash";
	return AUTH_FAIL;
}

/*
 * Hashes pass with the stored setting, or with DUMMY_HASH when the entry
 * is missing or unusable, so that every outcome costs one crypt_rn().
 * a is NULL for an unknown user.
 */
static enum auth_result
file_verify(const char *pass, const struct account *a, const char *hash,
    size_t hashlen, const char **why)
{
	struct crypt_data *cd;
	const char *reason, *out;
	enum auth_result res;

	/* calloc: libxcrypt wants the structure zeroed before first use. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		*why = "out of memory";
		return AUTH_TEMPFAIL;
	}
	reason = unusable(a, hash, hashlen);
	if (reason == NULL) {
		memcpy(cd->setting, hash, hashlen);
		cd->setting[hashlen] = '\0';
	} else {
		memcpy(cd->setting, DUMMY_HASH, sizeof(DUMMY_HASH));
	}
	errno = 0;
	out = crypt_rn(pass, cd->setting, cd, (int)sizeof(*cd));
	if (reason != NULL) {
		*why = reason;
		res = AUTH_FAIL;
	} else if (out == NULL || *out == '*') {
		res = crypt_failure(errno, why);
	} else if (!cred_equal(out, strlen(out), hash, hashlen)) {
		*why = "wrong password";
		res = AUTH_FAIL;
	} else {
		res = AUTH_OK;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return res;
}

static enum auth_result
file_check(const struct auth_request *req, struct account *acct,
    const char **why)
{
	struct account a;
	const char *hash = NULL;
	char *buf = NULL;
	size_t len = 0, hashlen = 0;
	enum auth_result res;
	int found;

	memset(&a, 0, sizeof(a));
	if (auth_read_file(req->passwd_file, &buf, &len, why) == -1) {
		return AUTH_TEMPFAIL;
	}
	found = file_find(buf, len, req->user, &a, &hash, &hashlen);
	res = file_verify(req->pass, found ? &a : NULL, hash, hashlen, why);
	/* The file holds every user's hash: leave none behind. */
	explicit_bzero(buf, len);
	free(buf);
	if (res == AUTH_OK) {
		*acct = a;
	}
	return res;
}

/* Responses may hold the password: wipe them before they are freed. */
static void
free_responses(struct pam_response *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (r[i].resp != NULL) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
}

/*
 * Answers by msg_style, as popa3d does: the password goes only to a
 * prompt that hides its answer. A prompt that echoes asks for something
 * else (a user name, a token) that a POP3 client cannot give us.
 */
static int
conv_answer(const struct pam_message *m, const char *pass,
    struct pam_response *r)
{
	switch (m->msg_style) {
	case PAM_PROMPT_ECHO_OFF:
		if ((r->resp = strdup(pass)) == NULL) {
			return PAM_BUF_ERR;
		}
		return PAM_SUCCESS;
	case PAM_ERROR_MSG:
	case PAM_TEXT_INFO:
		return PAM_SUCCESS;
	default:
		return PAM_CONV_ERR;
	}
}

/* Linux-PAM passes msg as an array of pointers (not Solaris' layout). */
static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r;
	const struct conv_data *cd = data;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG || msg == NULL || resp == NULL) {
		return PAM_CONV_ERR;
	}
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL) {
		return PAM_BUF_ERR;
	}
	for (i = 0; i < n; i++) {
		int rc = conv_answer(msg[i], cd->pass, &r[i]);

		if (rc != PAM_SUCCESS) {
			free_responses(r, n);
			return rc;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/*
 * pam_authenticate()'s answer, before the password is known right. POP3
 * cannot change an expired password, so PAM_NEW_AUTHTOK_REQD is a refusal
 * like the others; anything unlisted (PAM_SYSTEM_ERR, PAM_AUTHINFO_UNAVAIL,
 * a broken module) means the check could not be made, which the monitor
 * delays and counts like a refusal but answers as temporary (RFC 3206).
 */
static enum auth_result
pam_result(int rc)
{
	switch (rc) {
	case PAM_SUCCESS:
		return AUTH_OK;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_MAXTRIES:
	case PAM_PERM_DENIED:
	case PAM_ACCT_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_CRED_INSUFFICIENT:
		return AUTH_FAIL;
	default:
		return AUTH_TEMPFAIL;
	}
}

static enum auth_result
copy_account(const struct passwd *pw, struct account *acct,
    const char **why)
{
	size_t nlen = strlen(pw->pw_name), hlen = strlen(pw->pw_dir);

	if (pw->pw_uid == 0) {
		*why = "uid 0 refused";
		return AUTH_FAIL;
	}
	if (nlen > USER_MAX || hlen > HOME_MAX - 1) {
		*why = "passwd entry too long";
		return AUTH_FAIL;
	}
	memcpy(acct->name, pw->pw_name, nlen + 1);
	memcpy(acct->home, pw->pw_dir, hlen + 1);
	acct->uid = pw->pw_uid;
	acct->gid = pw->pw_gid;
	return AUTH_OK;
}

/*
 * pam_acct_mgmt() (pam_unix) sees expiry, not a password locked by
 * usermod -L or passwd -l: for a password login pam_authenticate()
 * refuses that, but APOP does not run it. Root reads shadow(5) here. A
 * user with no shadow entry (a directory user) is left to the account
 * step.
 */
static enum auth_result
password_refuses(const struct passwd *pw, const char **why)
{
	struct spwd sp, *spp = NULL;
	const char *hash = pw->pw_passwd, *reason = NULL;
	char *buf;
	int e = 0;

	if ((buf = malloc(PW_BUF_FALLBACK)) == NULL) {
		*why = "out of memory";
		return AUTH_FAIL;
	}
	if (strcmp(hash, "x") == 0) {
		e = getspnam_r(pw->pw_name, &sp, buf, PW_BUF_FALLBACK, &spp);
		hash = spp != NULL ? spp->sp_pwdp : NULL;
	}
	if (hash == NULL && e != 0 && e != ENOENT) {
		reason = "getspnam_r failed";
	} else if (hash != NULL) {
		reason = apop_hash_refuses(hash, strlen(hash));
	}
	explicit_bzero(buf, PW_BUF_FALLBACK);
	free(buf);
	if (reason == NULL) {
		return AUTH_OK;
	}
	*why = reason;
	return AUTH_FAIL;
}

/*
 * The account PAM accepted, by the name PAM ended with. Without a passwd
 * entry there is no uid to become. The password is known right by now,
 * so every refusal here is AUTH_FAIL (see known_right()). For APOP the
 * stored password must not be locked either.
 */
static enum auth_result
account_lookup(const char *name, int apop, struct account *acct,
    const char **why)
{
	struct passwd pw, *pwp = NULL;
	enum auth_result res;
	char *buf;
	long n = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = n > 0 ? (size_t)n : PW_BUF_FALLBACK;
	int e;

	for (;;) {
		if ((buf = malloc(size)) == NULL) {
			*why = "out of memory";
			return AUTH_FAIL;
		}
		e = getpwnam_r(name, &pw, buf, size, &pwp);
		if (e != ERANGE || size >= PW_BUF_MAX) {
			break;
		}
		free(buf);
		size *= 2;
	}
	if (e != 0) {
		*why = "getpwnam_r failed";
		res = AUTH_FAIL;
	} else if (pwp == NULL) {
		*why = "no passwd entry";
		res = AUTH_FAIL;
	} else {
		res = copy_account(pwp, acct, why);
	}
	if (res == AUTH_OK && apop) {
		res = password_refuses(pwp, why);
	}
	explicit_bzero(buf, size);
	free(buf);
	return res;
}

/* PAM_USER may have been mapped by a module; copy it while h lives. */
static enum auth_result
pam_account(pam_handle_t *h, int apop, struct account *acct,
    const char **why)
{
	const void *item = NULL;
	char name[USER_MAX + 1];
	size_t len;

	if (pam_get_item(h, PAM_USER, &item) != PAM_SUCCESS ||
	    item == NULL) {
		*why = "PAM lost the user name";
		return AUTH_FAIL;
	}
	if ((len = strlen(item)) > USER_MAX) {
		*why = "PAM user name too long";
		return AUTH_FAIL;
	}
	memcpy(name, item, len + 1);
	return account_lookup(name, apop, acct, why);
}

/*
 * libpam would sleep a random 0.5 to 1.5 times what a module asks
 * (pam_unix: 2 s), and only when pam_authenticate() fails, so that the
 * right password of an expired account was answered sooner than a wrong
 * one. The monitor gives every failure the same delay instead.
 */
static void
no_fail_delay(int status, unsigned int usec, void *data)
{
	(void)status;
	(void)usec;
	(void)data;
}

/*
 * Once the password or APOP's digest is known right, every refusal must
 * look like a wrong password (-ERR [AUTH], the same delay, counted and
 * logged as LOGIN FAILED): a different answer, even "temporarily
 * unavailable", would tell a guesser that the guess was right.
 */
static enum auth_result
known_right(enum auth_result res)
{
	return res == AUTH_TEMPFAIL ? AUTH_FAIL : res;
}

static int
pam_items(pam_handle_t *h, const struct auth_request *req)
{
	int rc = PAM_SUCCESS;

	if (req->rhost != NULL) {
		rc = pam_set_item(h, PAM_RHOST, req->rhost);
	}
	if (rc == PAM_SUCCESS) {
		rc = pam_set_item(h, PAM_FAIL_DELAY, (const void *)no_fail_delay);
	}
	return rc;
}

/*
 * pam_authenticate(), unless APOP's digest was the proof already; then
 * the account step, any of whose refusals (pam_exec's PAM_SYSTEM_ERR
 * included) is AUTH_FAIL.
 */
static enum auth_result
pam_steps(pam_handle_t *h, const struct auth_request *req, int *rc)
{
	enum auth_result res;

	if ((*rc = pam_items(h, req)) != PAM_SUCCESS) {
		return AUTH_TEMPFAIL;
	}
	if (!req->apop) {
		*rc = pam_authenticate(h, PAM_DISALLOW_NULL_AUTHTOK);
		if ((res = pam_result(*rc)) != AUTH_OK) {
			return res;
		}
	}
	*rc = pam_acct_mgmt(h, PAM_DISALLOW_NULL_AUTHTOK);
	return *rc == PAM_SUCCESS ? AUTH_OK : AUTH_FAIL;
}

static enum auth_result
pam_check(const struct auth_request *req, struct account *acct,
    const char **why)
{
	/* pam_strerror() text may live in the handle: keep a copy. */
	static char pam_why[128];
	struct conv_data cd;
	struct pam_conv pc;
	struct account a;
	pam_handle_t *h = NULL;
	enum auth_result res;
	int rc;

	memset(&a, 0, sizeof(a));
	cd.pass = req->pass;
	pc.conv = conv;
	pc.appdata_ptr = &cd;
	if (pam_start(req->service, req->user, &pc, &h) != PAM_SUCCESS) {
		*why = "pam_start failed";
		return AUTH_TEMPFAIL;
	}
	if ((res = pam_steps(h, req, &rc)) != AUTH_OK) {
		/* Truncation only shortens a log text. */
		(void)snprintf(pam_why, sizeof(pam_why), "%s",
		    pam_strerror(h, rc));
		*why = pam_why;
	} else {
		res = pam_account(h, req->apop, &a, why);
	}
	pam_end(h, rc);
	if (res == AUTH_OK) {
		*acct = a;
	}
	return res;
}

/*
 * The passwd-file entry of an account that proved itself with APOP, with
 * the checks a password login makes: a locked hash refuses APOP too.
 */
static enum auth_result
file_account(const struct auth_request *req, struct account *acct,
    const char **why)
{
	struct account a;
	const char *hash, *reason;
	char *buf = NULL;
	size_t len = 0, hashlen;
	enum auth_result res = AUTH_OK;

	memset(&a, 0, sizeof(a));
	if (auth_read_file(req->passwd_file, &buf, &len, why) == -1) {
		return AUTH_TEMPFAIL;
	}
	if (!file_find(buf, len, req->user, &a, &hash, &hashlen)) {
		*why = "unknown user";
		res = AUTH_FAIL;
	} else if (a.uid == 0) {
		*why = "uid 0 refused";
		res = AUTH_FAIL;
	} else if ((reason = apop_hash_refuses(hash, hashlen)) != NULL) {
		*why = reason;
		res = AUTH_FAIL;
	}
	explicit_bzero(buf, len);
	free(buf);
	if (res == AUTH_OK) {
		*acct = a;
	}
	return res;
}

/*
 * The APOP secrets file, read whole and wiped after use. For an APOP
 * login: 1 if the digest in req->pass is right; otherwise: 1 if
 * req->user has a secret at all. 0 if not; -1 (*why) if unreadable.
 */
static int
apop_secrets(const struct auth_request *req, const char **why)
{
	char *buf = NULL;
	size_t len = 0;
	int res;

	if (auth_read_file(req->apop_secrets, &buf, &len, why) == -1) {
		return -1;
	}
	if (req->apop) {
		res = apop_verify(buf, len, req->apop_timestamp, req->user,
		    req->pass, why);
	} else {
		res = apop_listed(buf, len, req->user);
	}
	explicit_bzero(buf, len);
	free(buf);
	return res;
}

/*
 * APOP: the digest in req->pass; then the account the secret belongs to:
 * PAM's account step (not its auth stack, which wants a password) or the
 * passwd-file line, and the stored hash must not be locked.
 */
static enum auth_result
apop_check(const struct auth_request *req, struct account *acct,
    const char **why)
{
	switch (apop_secrets(req, why)) {
	case 1:
		break;
	case 0:
		return AUTH_FAIL;
	default:
		return AUTH_TEMPFAIL;
	}
	if (req->passwd_file != NULL) {
		return known_right(file_account(req, acct, why));
	}
	return known_right(pam_check(req, acct, why));
}

enum auth_result
auth_check(const struct auth_request *req, struct account *acct,
    const char **why)
{
	if (req->apop) {
		return apop_check(req, acct, why);
	}
	if (req->apop_secrets != NULL) {
		switch (apop_secrets(req, why)) {
		case 1:
			*why = "this account logs in with APOP only";
			return AUTH_FAIL;
		case -1:
			*why = "APOP secrets file unreadable";
			return AUTH_TEMPFAIL;
		default:
			break;
		}
	}
	if (req->passwd_file != NULL) {
		return file_check(req, acct, why);
	}
	return pam_check(req, acct, why);
}
