/*
 * web.h - the dashboard and its sign-in (web.c).
 */
#ifndef PCMDS_WEB_H
#define PCMDS_WEB_H

#include "srv.h"

void	 web_root(struct http_req *);
void	 web_login(struct http_req *);
void	 web_logout(struct http_req *);
void	 web_dashboard(struct http_req *);
void	 web_css(struct http_req *);

#endif
