/*
 * banned: functions kom never calls.  Including this header last in a .c
 * file turns each use into a compile error that names the replacement.
 */
#ifndef KOM_BANNED_H
#define KOM_BANNED_H

#define KOM_BANNED(f) sorry_##f##_is_banned_in_kom

#undef strcpy
#define strcpy(a, b) KOM_BANNED(strcpy_use_buf_or_memcpy)
#undef strcat
#define strcat(a, b) KOM_BANNED(strcat_use_buf)
#undef strncpy
#define strncpy(a, b, n) KOM_BANNED(strncpy_use_xstrndup)
#undef strncat
#define strncat(a, b, n) KOM_BANNED(strncat_use_buf)
#undef sprintf
#define sprintf(...) KOM_BANNED(sprintf_use_snprintf_or_buf_printf)
#undef vsprintf
#define vsprintf(...) KOM_BANNED(vsprintf_use_buf_vprintf)
#undef strtok
#define strtok(a, b) KOM_BANNED(strtok_use_strsep_or_strtok_r)
#undef gets
#define gets(a) KOM_BANNED(gets)
#undef atoi
#define atoi(a) KOM_BANNED(atoi_use_strtol)
#undef atol
#define atol(a) KOM_BANNED(atol_use_strtol)
#undef atoll
#define atoll(a) KOM_BANNED(atoll_use_strtoll)
#undef system
#define system(a) KOM_BANNED(system_use_proc_run)
#undef popen
#define popen(a, b) KOM_BANNED(popen_use_proc_run)
#undef tmpnam
#define tmpnam(a) KOM_BANNED(tmpnam_use_mkstemp)
#undef mktemp
#define mktemp(a) KOM_BANNED(mktemp_use_mkstemp)

#endif
