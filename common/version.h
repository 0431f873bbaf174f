/*
 * version.h - the one place the release number is written.
 */
#ifndef PCMDS_VERSION_H
#define PCMDS_VERSION_H

#define PCMDS_VERSION	"0.9.0"

#endif
