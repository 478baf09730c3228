/* A stand-in for Windows' own icuuc.dll (System32, Windows 10 1703 and later), which
   wine 8.0 does not have. Qt6Core.dll of PySide6-Essentials 6.11 imports 20 ucnv_*
   functions from it (codecs beyond UTF-8/16/32 and Latin-1); without the DLL,
   "import PySide6.QtCore" fails with "DLL load failed". Built by windows-build-under-wine.sh
   with mingw-w64 into the wine prefix's system32, where Windows keeps the real one (so
   PyInstaller leaves it out of the bundle, as on Windows). Here every converter is "not available":
   ucnv_open fails with U_FILE_ACCESS_ERROR and no codec is listed, so Qt keeps to its own
   built-in codecs. For running under wine only; never shipped. */
#include <stddef.h>
#include <stdint.h>
#define API __declspec(dllexport)
typedef int UErrorCode;
API void *ucnv_open(const char *name, UErrorCode *err) { (void)name; if (err) *err = 4; return NULL; }
API void ucnv_close(void *c) { (void)c; }
API int32_t ucnv_countAvailable(void) { return 0; }
API const char *ucnv_getAvailableName(int32_t n) { (void)n; return NULL; }
API const char *ucnv_getStandardName(const char *n, const char *s, UErrorCode *err) { (void)n; (void)s; if (err) *err = 4; return NULL; }
API const char *ucnv_getName(const void *c, UErrorCode *err) { (void)c; if (err) *err = 4; return NULL; }
API int8_t ucnv_getMaxCharSize(const void *c) { (void)c; return 4; }
API void ucnv_reset(void *c) { (void)c; }
API void ucnv_toUnicode(void *c, void **t, const void *tl, const char **s, const char *sl, int32_t *o, int8_t f, UErrorCode *err) { (void)c;(void)t;(void)tl;(void)s;(void)sl;(void)o;(void)f; if (err) *err = 16; }
API void ucnv_fromUnicode(void *c, char **t, const char *tl, const void **s, const void *sl, int32_t *o, int8_t f, UErrorCode *err) { (void)c;(void)t;(void)tl;(void)s;(void)sl;(void)o;(void)f; if (err) *err = 16; }
API int32_t ucnv_toUCountPending(const void *c, UErrorCode *err) { (void)c; (void)err; return 0; }
API int32_t ucnv_fromUCountPending(const void *c, UErrorCode *err) { (void)c; (void)err; return 0; }
API void ucnv_getToUCallBack(const void *c, void **a, const void **b) { (void)c; if (a) *a = NULL; if (b) *b = NULL; }
API void ucnv_getFromUCallBack(const void *c, void **a, const void **b) { (void)c; if (a) *a = NULL; if (b) *b = NULL; }
API void ucnv_setToUCallBack(void *c, void *n, const void *nc, void **o, const void **oc, UErrorCode *err) { (void)c;(void)n;(void)nc; if (o) *o = NULL; if (oc) *oc = NULL; (void)err; }
API void ucnv_setFromUCallBack(void *c, void *n, const void *nc, void **o, const void **oc, UErrorCode *err) { (void)c;(void)n;(void)nc; if (o) *o = NULL; if (oc) *oc = NULL; (void)err; }
API void ucnv_cbToUWriteUChars(void *a, const void *s, int32_t l, int32_t o, UErrorCode *err) { (void)a;(void)s;(void)l;(void)o;(void)err; }
API void ucnv_cbFromUWriteUChars(void *a, const void **s, const void *sl, int32_t o, UErrorCode *err) { (void)a;(void)s;(void)sl;(void)o;(void)err; }
API void UCNV_TO_U_CALLBACK_SUBSTITUTE(const void *c, void *a, const char *b, int32_t l, int r, UErrorCode *err) { (void)c;(void)a;(void)b;(void)l;(void)r;(void)err; }
API void UCNV_FROM_U_CALLBACK_SUBSTITUTE(const void *c, void *a, const void *b, int32_t l, int32_t cp, int r, UErrorCode *err) { (void)c;(void)a;(void)b;(void)l;(void)cp;(void)r;(void)err; }
