/* An IdP's signing credentials made at run time, and XML signing of Signature templates,
 * for the SAML fuzz targets (tests/fuzz/fuzz_saml_*.c). */
#ifndef IDG_FUZZ_SAML_CRED_H
#define IDG_FUZZ_SAML_CRED_H

struct fz_cred {
	char *key_pem;
	char *cert_b64;	/* DER, base64, as metadata holds it */
};

/* A 2048-bit RSA key and a self-signed certificate; aborts on failure. */
void fz_cred_make(struct fz_cred *c);
void fz_cred_free(struct fz_cred *c);
/* Metadata naming entity (an EntityDescriptor with an IDPSSODescriptor) with c's certificate. */
char *fz_metadata(const char *entity, const struct fz_cred *c);
/* xml with every ID attribute declared and every empty ds:Signature template signed by c
 * (innermost first); NULL when xml does not parse or a signature cannot be made. Needs
 * libxmlsec1 initialised (idg_saml_new does it). */
char *fz_sign(const char *xml, size_t len, const struct fz_cred *c);

#endif
