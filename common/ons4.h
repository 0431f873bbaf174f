/*
 * ons4.h - the ONS personal well-being questions (ONS4) and their bands.
 */
#ifndef PCMDS_ONS4_H
#define PCMDS_ONS4_H

enum ons4_measure {
	ONS4_LIFE_SATISFACTION,
	ONS4_WORTHWHILE,
	ONS4_HAPPY,
	ONS4_ANXIOUS,
	ONS4_N
};

#define ONS4_MIN_AGE	16	/* ONS asks the questions of people aged 16+ */
#define ONS4_NBANDS	4

struct ons4_info {
	const char	*field;		/* record field, e.g. "life_satisfaction" */
	const char	*label;		/* "Life satisfaction" */
	const char	*question;	/* the ONS wording, exactly */
	int		 lower_better;	/* anxiety: a fall is an improvement */
	const char	*bands[ONS4_NBANDS];	/* labels, from 0 upwards */
	int		 worst_band;
};

extern const struct ons4_info ons4_measures[ONS4_N];
extern const char ons4_scale_note[];

/* Band index (0..3) of a score 0..10 on the measure, -1 when out of range. */
int	 ons4_band(enum ons4_measure, int score);
/* 1 when after is at least one point better than before. */
int	 ons4_improved(enum ons4_measure, int before, int after);
/* Change expressed so that positive is always better. */
int	 ons4_gain(enum ons4_measure, int before, int after);

#endif
