# share/completion/synopsis.awk: the SYNOPSIS of kom's mdoc pages as bash
# assignments for kom.bash, so the completion offers exactly what the man
# pages document.  For each page, one line per synopsis form:
#	_kom_forms_kom_exec+=('SUB|FLAGS|F=ARG ...|OPERAND')
# SUB is the subcommand ("" for none), FLAGS the flags without argument,
# F=ARG a flag with its argument's name, OPERAND the first operand's name.
# A form with alternatives (.Cm a Ns | Ns Cm b) gives one line per
# subcommand.
function flush(   n, i, s) {
	if (!inform)
		return
	n = split(subs, s, " ")
	if (n == 0) {
		n = 1
		s[1] = ""
	}
	for (i = 1; i <= n; i++)
		printf "_kom_forms_%s+=('%s|%s|%s|%s')\n", var, s[i], flags,
		    args, operand
	inform = 0
}
FNR == 1 {
	flush()
	insyn = 0
	prog = FILENAME
	sub(/.*\//, "", prog)
	sub(/\.1$/, "", prog)
	var = prog
	gsub(/-/, "_", var)
	printf "_kom_forms_%s=()\n", var
}
/^\.Sh / {
	flush()
	insyn = ($2 == "SYNOPSIS")
	next
}
!insyn { next }
/^\.Nm/ {
	flush()
	inform = 1
	subs = flags = args = operand = ""
	first = 1
	next
}
{
	# words of the macro line, "Ns" and "|" and punctuation dropped
	line = $0
	sub(/^\./, "", line)
	n = split(line, w, /[ \t]+/)
	for (i = 1; i <= n; i++) {
		if (w[i] == "Cm" && first) {
			subs = subs (subs == "" ? "" : " ") w[i + 1]
			i++
		} else if (w[i] == "Fl") {
			first = 0
			f = w[i + 1]
			if (w[i + 2] == "Ar") {
				args = args (args == "" ? "" : " ") f "=" w[i + 3]
				i += 3
			} else {
				flags = flags f
				i++
			}
		} else if (w[i] == "Ar") {
			first = 0
			if (operand == "")
				operand = w[i + 1]
			i++
		} else if (w[i] == "Op" || w[i] == "Ns" || w[i] == "|" ||
		    w[i] == "Cm")
			continue
		else
			first = 0
	}
}
END { flush() }
