/* SPDX-License-Identifier: ISC */
/*
 * The configuration main.c makes of the options at start, before any
 * fork: read by every process of a login, changed by none.
 */
#ifndef POP3D_CONFIG_H
#define POP3D_CONFIG_H

struct config {
	const char	*mailbox;	/* the path template */
	const char	*pam_service;
	const char	*passwd_file;	/* NULL: PAM */
	int		 timeout;	/* seconds, TRANSACTION */
	int		 debug;		/* log to stderr as well */
	int		 no_plaintext;	/* refuse credentials in the clear */
	int		 uidls;		/* enum uidl_source: --uidl, --x-uidl */
	const char	*apop_secrets;	/* NULL: no APOP, no timestamp */
	const char	*proxy_from;	/* peers whose PROXY header we read */
	const char	*privsep_user;	/* the pre-login account */
	const char	*privsep_dir;	/* its empty chroot */
};

#endif
