# population.awk - the reference tables in packaging/population/ (one row
# per place, a column per category, as README-population.md describes
# them) as a pcmdsd population import file: place,table,category,
# population,source. Run with the three files in any order:
#   awk -f population.awk population-*.csv
# Only columns are renamed; no number is changed. The IMD table uses the
# mid-2020 small-area estimates (the later of the two the file gives).
BEGIN {
	FS = ","
	print "place,table,category,population,source"
	src["ethnicity"] = "ONS, Census 2021: usual residents by ethnic group, 19 categories (as TS021); OGL v3.0"
	src["age"] = "ONS, Census 2021 TS007A: usual residents by five-year age band; OGL v3.0"
	src["sex"] = "ONS, Census 2021 TS009: usual residents by sex; OGL v3.0"
	src["imd"] = "ONS mid-2020 small-area population estimates (2011 LSOAs) by MHCLG IMD 2019 national decile; OGL v3.0"
}
FNR == 1 {
	delete col
	for (i = 1; i <= NF; i++)
		col[$i] = i
	next
}
function out(table, category, field,    s) {
	if (!(field in col)) {
		printf "population.awk: %s has no column %s\n", FILENAME, field > "/dev/stderr"
		exit 1
	}
	s = src[table]
	if ($col["la_codes"] ~ /\+/)
		s = s " (" $col["la_codes"] " added)"
	printf "%s,%s,%s,%s,\"%s\"\n", $col["code"], table, category, $(col[field]), s
}
"asian_bangladeshi" in col {
	n = split("asian_bangladeshi asian_chinese asian_indian asian_pakistani asian_other black_african black_caribbean black_other mixed_white_and_asian mixed_white_and_black_african mixed_white_and_black_caribbean mixed_other white_british white_irish white_gypsy_or_irish_traveller white_roma white_other other_arab other_any_other", c, " ")
	for (i = 1; i <= n; i++)
		out("ethnicity", c[i], c[i])
	out("ethnicity", "total", "all_usual_residents")
}
"age_0_4" in col {
	n = split("0_4 5_9 10_14 15_19 20_24 25_29 30_34 35_39 40_44 45_49 50_54 55_59 60_64 65_69 70_74 75_79 80_84", c, " ")
	for (i = 1; i <= n; i++) {
		k = c[i]
		sub(/_/, "-", k)
		out("age", k, "age_" c[i])
	}
	out("age", "85+", "age_85_plus")
	out("age", "total", "all_usual_residents_ts007a")
	out("sex", "female", "female_ts009")
	out("sex", "male", "male_ts009")
	out("sex", "total", "sex_total_ts009")
}
"pop_mid2020_d1" in col {
	for (i = 1; i <= 10; i++)
		out("imd", i, "pop_mid2020_d" i)
	out("imd", "total", "pop_mid2020_total")
}
