import logging

from odoo import api, models

_logger = logging.getLogger(__name__)

#: OFD states of a document the OFD has confirmed or that never goes to the OFD
OFD_DONE_STATES = ("acknowledged", "resolved", "not_applicable")


class OpticsFiscalDocument(models.Model):
    _inherit = "optics.fiscal.document"

    @api.model
    def _ingest_push(self, config, entries, status=None):
        reply = super()._ingest_push(config, entries, status)
        # the cash trail and the Z reports follow the same push; a failure there must not
        # make central refuse fiscal documents it has stored (the till would push again)
        accepted = set(reply.get("accepted") or [])
        for entry in entries:
            if entry.get("uuid") not in accepted:
                continue
            try:
                with self.env.cr.savepoint():
                    self.env["pos.session"].sudo()._ru54fz_ingest_till_entry(config, entry)
            except Exception:  # noqa: BLE001 - logged; the trail heals from the POS order sync
                _logger.exception("cash trail: till entry %s of %s not recorded",
                                  entry.get("uuid"), config.display_name)
        return reply

    @api.model
    def _ru54fz_unconfirmed_fds(self, config, shift_number):
        """FD numbers of the shift that central holds and the OFD has not confirmed."""
        docs = self.sudo().search([("pos_config_id", "=", config.id),
                                   ("shift_number", "=", shift_number),
                                   ("ofd_state", "not in", OFD_DONE_STATES),
                                   ("fd_number", "!=", 0)], order="fd_number")
        return docs.mapped("fd_number")
