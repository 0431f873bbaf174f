/*
 * api_places.h - the reading side: figures and exports.
 */
#ifndef PCMDS_API_PLACES_H
#define PCMDS_API_PLACES_H

#include "impact.h"
#include "srv.h"

/*
 * Reads from, to (days), group_by, format and suppress, for record-level
 * reads; answers on error (-1). suppress=false is audited.
 */
int	 api_params(struct http_req *, struct impact_req *, int *csv);
/*
 * The same for figures: from and to are months (YYYY-MM) or days, and
 * under disclosure control must make whole, completed calendar months
 * (without to: up to the end of the last completed month). The dashboard
 * (dashboard = 1) refuses suppress=false.
 */
int	 api_figures_params(struct http_req *, struct impact_req *, int *csv,
	    int dashboard);
/* Answers with a figures document as JSON or CSV (consumed). */
void	 api_answer(struct http_req *, cJSON *doc, int csv);

void	 api_places(struct http_req *);
/* /v1/places/{code}/impact and /v1/places/{code}/months */
void	 api_impact(struct http_req *);
void	 api_commitments(struct http_req *);
void	 api_export(struct http_req *);
void	 api_assets(struct http_req *);

#endif
