/*
 * ons4.c - ONS4 wordings and thresholds.
 *
 * Wordings and bands are those the Office for National Statistics uses in
 * its personal well-being estimates: life satisfaction, worthwhile and
 * happiness 0-4 low, 5-6 medium, 7-8 high, 9-10 very high; anxiety 0-1
 * very low, 2-3 low, 4-5 medium, 6-10 high.
 */
#include "ons4.h"

const char ons4_scale_note[] =
    "Answer on a scale of 0 to 10, where 0 is \"not at all\" and 10 is "
    "\"completely\".";

const struct ons4_info ons4_measures[ONS4_N] = {
	{"life_satisfaction", "Life satisfaction",
	    "Overall, how satisfied are you with your life nowadays?", 0,
	    {"low", "medium", "high", "very high"}, 0},
	{"worthwhile", "Worthwhile",
	    "Overall, to what extent do you feel that the things you do in "
	    "your life are worthwhile?", 0,
	    {"low", "medium", "high", "very high"}, 0},
	{"happy", "Happiness",
	    "Overall, how happy did you feel yesterday?", 0,
	    {"low", "medium", "high", "very high"}, 0},
	{"anxious", "Anxiety",
	    "On a scale where 0 is 'not at all anxious' and 10 is 'completely "
	    "anxious', overall, how anxious did you feel yesterday?", 1,
	    {"very low", "low", "medium", "high"}, 3},
};

int
ons4_band(enum ons4_measure m, int s)
{
	if (s < 0 || s > 10 || m < 0 || m >= ONS4_N)
		return -1;
	if (ons4_measures[m].lower_better)
		return s <= 1 ? 0 : s <= 3 ? 1 : s <= 5 ? 2 : 3;
	return s <= 4 ? 0 : s <= 6 ? 1 : s <= 8 ? 2 : 3;
}

int
ons4_gain(enum ons4_measure m, int before, int after)
{
	return ons4_measures[m].lower_better ? before - after : after - before;
}

int
ons4_improved(enum ons4_measure m, int before, int after)
{
	return ons4_gain(m, before, after) >= 1;
}
