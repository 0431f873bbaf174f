# caseload.awk - a synthetic, deterministic social prescribing caseload
# for one place, for the demo. Nothing here is real data.
#
#   awk -v seed=42 -v place=NH -v n=60 -v cmds=FILE \
#       -v assets="ID ID ..." -f caseload.awk
#
# writes the referrals as a CSV for "pcmds import" (with baseline and
# final ONS4 and closures) on stdout, and the contacts and support of
# each row to FILE, as lines
#       "ROW contact DATE MODE MINUTES yes|no"
#       "ROW support DATE CATEGORY OUTCOME PROVIDER"
#       "ROW asset DATE ID OUTCOME"
# (support from the place's directory of community assets, given as
# assets, or from a provider outside it, named in free text)
#
# The same seed always gives the same caseload. Demographics follow each
# place's published profile in broad strokes (Census 2021 ethnic mix,
# Index of Multiple Deprivation 2019 deciles); referral sources, reasons,
# ONS4 baselines (low, as social prescribing populations are) and changes
# (about +1.5 points, anxiety -1.5, with spread; some worse) are typical
# of published social prescribing evaluations.

function rnd() { return rand() }
function pick(s,    a, n) { n = split(s, a, " "); return a[int(rnd() * n) + 1] }
function between(lo, hi) { return lo + int(rnd() * (hi - lo + 1)) }
function clamp(v) { return v < 0 ? 0 : v > 10 ? 10 : v }
function normal(mu, sd,    u, v) {
	u = rnd(); v = rnd(); if (u < 1e-9) u = 1e-9
	return mu + sd * sqrt(-2 * log(u)) * cos(6.283185307 * v)
}
function mdays(y, m) {
	if (m == 2)
		return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ? 29 : 28
	return m == 4 || m == 6 || m == 9 || m == 11 ? 30 : 31
}
function ymd(d,    y, m) {
	# d: days after 2025-04-01
	y = 2025; m = 4
	while (d >= mdays(y, m)) {
		d -= mdays(y, m)
		if (++m > 12) { m = 1; y++ }
	}
	return sprintf("%04d-%02d-%02d", y, m, d + 1)
}

BEGIN {
	srand(seed + length(place) * 1000 + index("BDCHHVNHRBTHWF", place) * 7)
	# ethnic category mixes, as a bag to draw from
	eth["BD"] = "A A A A A C C N N N M H J K K L D F S Z"
	eth["CH"] = "A A A A C C C C N N M M P K H R S D G Z"
	eth["HV"] = "A A A A A A A A A A A C C N N H L D F Z"
	eth["NH"] = "A A A C C N N N M H H J J K K K K L L Z"
	eth["RB"] = "A A A A C C N M H H H J J J K L L L F 99"
	eth["TH"] = "A A A A C C N M K K K K K K K H R S G Z"
	eth["WF"] = "A A A A C C C C N N M J J J K H L G F Z"
	imd["BD"] = "1 2 2 2 3 3 3 4 4 5"
	imd["CH"] = "1 1 2 2 2 3 3 4 5 6"
	imd["HV"] = "3 4 5 5 6 6 7 7 8 9"
	imd["NH"] = "1 1 2 2 2 3 3 3 4 5"
	imd["RB"] = "3 4 4 5 5 6 6 7 7 8"
	imd["TH"] = "1 1 1 2 2 2 3 3 4 5"
	imd["WF"] = "2 3 3 4 4 5 5 5 6 7"
	sources = "general_practice general_practice general_practice " \
	    "general_practice general_practice mdt mdt pharmacy self self " \
	    "social_care housing vcse mental_health community_health " \
	    "hospital_discharge job_centre"
	reasons = "loneliness_isolation loneliness_isolation low_mood_anxiety " \
	    "low_mood_anxiety stress bereavement long_term_condition " \
	    "physical_activity weight_diet debt_money debt_money benefits " \
	    "housing housing employment_training carer_support " \
	    "family_relationships digital_inclusion food_insecurity " \
	    "legal_immigration substance_use"
	cats = "befriending_social befriending_social physical_activity " \
	    "arts_culture nature_green advice_debt_benefits " \
	    "advice_debt_benefits housing_support employment_skills learning " \
	    "food peer_support carers_support mental_health_service " \
	    "healthy_lifestyle faith_community digital_skills"
	providers = "Age_UK Citizens_Advice Mind Community_Garden " \
	    "Leisure_Centre Library Food_Bank Carers_Hub Adult_Learning " \
	    "Walking_Group Men's_Shed Arts_Collective"
	modes = "face_to_face face_to_face phone phone home_visit video group"
	print "person_basis,nhs_number,referred_on,source,reasons,service," \
		    "age,gender,ethnicity,imd_decile,carer,learning_disability," \
		    "autism,homeless,consent_evaluation,baseline_on," \
		    "baseline_life_satisfaction,baseline_worthwhile," \
		    "baseline_happy,baseline_anxious,baseline_declined,final_on," \
		    "final_life_satisfaction,final_worthwhile,final_happy," \
		    "final_anxious,final_declined,closed_on,closure_reason"
	for (i = 1; i <= n; i++)
		row(i)
}

function row(i,    d, child, age, service, basis, nr, rs, r1, k, b, f,
    ls, w, h, a, fls, fw, fh, fa, closed, reason, bl, fn, declined, c, ncon,
    outcome, on, late, homeless, num, dec, carer) {
	d = between(0, 500)		# referral date
	child = rnd() < 0.06
	age = child ? between(11, 15) : int(normal(52, 18))
	if (!child && age < 16) age = 16 + between(0, 8)
	if (age > 95) age = 95
	service = child ? "children_young_people" : pick("general general " \
	    "general general general mental_health hospital violence_reduction")
	homeless = rnd() < 0.04
	basis = homeless || rnd() < 0.03 ? "local" : "nhs_number"
	nr = rnd() < 0.45 ? 2 : 1
	r1 = pick(reasons); rs = r1
	for (k = 2; k <= nr; k++) {
		b = pick(reasons)
		if (index(rs, b) == 0) rs = rs ";" b
	}
	# ONS4 baseline: low, as in people referred to social prescribing
	ls = clamp(int(normal(4.4, 1.9) + 0.5)); w = clamp(int(normal(5.0,
	    1.9) + 0.5)); h = clamp(int(normal(4.5, 2.1) + 0.5))
	a = clamp(int(normal(6.4, 2.2) + 0.5))
	declined = child || rnd() < 0.08
	late = d > 430		# recent referrals are still open
	closed = !late
	reason = pick("goals_met goals_met goals_met goals_met goals_met " \
	    "goals_met disengaged disengaged declined referred_elsewhere " \
	    "moved_away not_appropriate")
	fn = closed && !declined && reason != "declined" && rnd() < 0.88
	fls = clamp(ls + int(normal(1.6, 1.8) + 0.5))
	fw = clamp(w + int(normal(1.3, 1.7) + 0.5))
	fh = clamp(h + int(normal(1.5, 2.0) + 0.5))
	fa = clamp(a - int(normal(1.5, 2.1) + 0.5))
	{
		bl = ymd(d + between(1, 14))
		# some people are referred again: the same NHS number
		if (basis == "local")
			num = ""
		else if (i > 5 && rnd() < 0.06)
			num = seen[between(1, i - 1)]
		else
			num = nhs(i)
		if (num == "" && basis != "local")
			num = nhs(i)
		seen[i] = num
		dec = rnd() < 0.9 ? pick(imd[place]) : ""
		carer = rnd() < 0.18 ? "yes" : (rnd() < 0.7 ? "no" : "unknown")
		printf "%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s,%s,%s,%s,", basis,
		    num, ymd(d), pick(sources), rs, service, age,
		    pick("female female female female male male male " \
		    "non_binary_other not_stated"), pick(eth[place]), dec, carer,
		    rnd() < 0.05 ? "yes" : "no", rnd() < 0.04 ? "yes" : "no",
		    homeless ? "yes" : "no", rnd() < 0.86 ? "yes" : "no"
		if (child)
			printf ",,,,,,"
		else if (declined)
			printf "%s,,,,,yes,", bl
		else
			printf "%s,%d,%d,%d,%d,,", bl, ls, w, h, a
		if (fn)
			printf "%s,%d,%d,%d,%d,,", ymd(d + between(60, 100)), fls,
			    fw, fh, fa
		else if (closed && !child && !declined && rnd() < 0.3)
			printf "%s,,,,,yes,", ymd(d + between(60, 100))
		else
			printf ",,,,,,"
		if (closed)
			printf "%s,%s\n", ymd(d + between(101, 120)), reason
		else
			printf ",\n"
	}
	# contacts: the first within days, more over the following weeks
	ncon = between(1, 4)
	on = d + between(1, 12)
	for (c = 1; c <= ncon; c++) {
		printf "%d contact %s %s %d %s\n", i, ymd(on), pick(modes),
		    between(20, 75), rnd() < 0.86 ? "yes" : "no" > cmds
		on += between(7, 21)
	}
	for (c = 1; c <= between(0, 2); c++) {
		outcome = pick("taken_up taken_up taken_up completed " \
		    "offered declined unavailable")
		if (assets != "" && rnd() < 0.7)
			printf "%d asset %s %s %s\n", i, ymd(d + between(3, 40)),
			    pick(assets), outcome > cmds
		else
			printf "%d support %s %s %s %s\n", i,
			    ymd(d + between(3, 40)), pick(cats), outcome,
			    pick(providers) > cmds
	}
}

# A valid NHS number (Modulus 11) from the row, in the 999 test range.
function nhs(i,    s, t, k, c) {
	do {
		s = sprintf("999%07d", (i * 7919 + index("BDCHHVNHRBTHWF",
		    place) * 100003 + int(rnd() * 1000)) % 10000000)
		t = 0
		for (k = 1; k <= 9; k++) t += substr(s, k, 1) * (11 - k)
		c = 11 - t % 11
		if (c == 11) c = 0
	} while (c == 10)
	return substr(s, 1, 9) c
}
