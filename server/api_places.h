/*
 * api_places.h - the reading side: figures, exports and the dashboard.
 */
#ifndef PCMDS_API_PLACES_H
#define PCMDS_API_PLACES_H

#include "impact.h"
#include "srv.h"

/* Reads from, to, group_by, format and suppress; answers on error (-1). */
int	 api_params(struct http_req *, struct impact_req *, int *csv);
/* Answers with a figures document as JSON or CSV (consumed). */
void	 api_answer(struct http_req *, cJSON *doc, int csv);

void	 api_places(struct http_req *);
void	 api_impact(struct http_req *);
void	 api_export(struct http_req *);
void	 api_assets(struct http_req *);

void	 web_root(struct http_req *);
void	 web_login(struct http_req *);
void	 web_logout(struct http_req *);
void	 web_dashboard(struct http_req *);
void	 web_css(struct http_req *);

#endif
