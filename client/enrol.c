/* placeholder until the sync issue lands: replaced there */
#include "setup_net.h"

pc_rc
setup_enrol(struct ctx *c, const struct opt_result *o, struct err_list *errs)
{
	(void)c;
	(void)o;
	err_add(errs, E_REQUIRED, "server", "enrolment is not available yet");
	return PC_EUSAGE;
}
