/*
 * setup_net.h - enrolment with a pcmds server (pcmds setup --server).
 */
#ifndef PCMDS_SETUP_NET_H
#define PCMDS_SETUP_NET_H

#include "client.h"

/*
 * Exchanges the one-time code for a token over TLS, pins the CA given
 * (or the system's), and fills the identity the server assigned.
 */
pc_rc	 setup_enrol(struct ctx *, const struct opt_result *,
	    struct err_list *);

#endif
