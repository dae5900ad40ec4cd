"""Console values -> canonical values through a vendor's vocabulary (protocol_spec/vendors/*.yaml).

Shared by every reader whose input speaks a console's language: our own vendor sheets and GE LxProtocol.
Entries are (canonical parameter, console label or key, value as printed); the vendor's words and conversions
(all in `units`) turn them into canonical values. A value the console prints as a word ("Minimum") is absent.
"""

from __future__ import annotations

from .. import units
from ..acquisition import Acquisition
from ..params import registry
from ..vendors import Vendor


def acquisition_from_vendor_values(
    seq_id: str, entries, vendor: Vendor, field_t: float | None, where: str
) -> Acquisition:
    acq = Acquisition(seq_id)
    acq.set("manufacturer", vendor.id, f"{where}: {vendor.name} sheet")
    if field_t is not None:
        acq.set("field_strength_t", field_t, f"{where}: sheet header")
    params = registry()
    parts: dict[str, list] = {}
    pending = []
    phase_resolution = None
    families = {product: family for family, products in vendor.families.items() for product in products}
    for param, label, value in entries:
        with acq.reading(f"{label}={value}"):  # a value that does not parse is absent, warned about
            if param == "sequence_family":
                acq.set(param, families.get(value), f"{where} product {value!r} ({vendor.name} vocabulary)")
                continue
            field = next((f for f in vendor.fields_for(param) if f.named(label)), None)
            if field is None:
                continue
            field = field.as_printed(label)
            text = value
            if field.unit and text.endswith(" " + field.unit):
                text = text[: -len(field.unit) - 1]
            spec = params[param]
            if spec.type in ("enum", "boolean"):
                reverse = vendor.reading(param)
                key = reverse.get(text, text if text in (spec.values or ("true", "false")) else None)
                if spec.type == "boolean" and key not in ("true", "false"):
                    key = None  # a word that is neither (GE CONTRAST "Allowed") says no "no" either
                if key is not None:  # a word the vocabulary does not know (GE "3-PLANE") tells nothing canonical
                    acq.set(param, key == "true" if spec.type == "boolean" else key, f"{where} {label}={value}")
                continue
            if field.convert in ("gap_percent", "rbw_khz", "wfs_pixels"):
                pending.append((param, field, text, label, value))  # needs thickness / matrix / field strength
                continue
            if field.convert == "voxel_text" and param != "voxel_size_mm":
                continue
            try:
                number = float(text)
            except ValueError:
                number = None
            if field.convert == "phase_resolution":
                if number is not None:  # Siemens "Phase resolution %": the phase lines need the FoV, read last
                    phase_resolution = (number, label, value)
                continue
            if number is not None and param in ("fov_mm", "matrix"):
                partial = parts.setdefault(param, [None, None])
                if units.vendor_part(field.convert, number, partial):
                    continue
            if field.convert == "eighths":
                try:
                    acq.set(param, units.from_vendor(text, "eighths", {}), f"{where} {label}={value}")
                except ValueError:  # a word other than Off ("Allowed", VE SPACE): no fraction, said by name
                    acq.warn(f"{param} from {label}={value!r}: a word, not a fraction")
                continue
            if number is None and not spec.is_list:
                continue
            canonical = units.from_vendor(text if spec.is_list else number, field.convert, {})
            acq.set(param, canonical, f"{where} {label}={value}")
    matrix, fov = parts.get("matrix"), parts.get("fov_mm")
    if phase_resolution and matrix and matrix[0] and matrix[1] is None and fov and None not in fov:
        # A read matrix of 1e308 makes the phase lines infinite: that value is absent, the rest read.
        with acq.reading(f"phase lines from {phase_resolution[1]}={phase_resolution[2]} and the read matrix"):
            matrix[1] = units.phase_lines(matrix[0], phase_resolution[0], fov)
            # The acquired voxel's ingredients as the console states them (derived.py does the arithmetic).
            acq.set("base_resolution", matrix[0], f"{where}: the read matrix")
            acq.set("phase_resolution_pct", phase_resolution[0], f"{where} {phase_resolution[1]}={phase_resolution[2]}")
    for param, partial in parts.items():
        if None not in partial:
            how = ""
            if phase_resolution and param == "matrix":
                how = f" (phase lines: base × {phase_resolution[1]} {phase_resolution[2]} × FoV phase / FoV read)"
            acq.set(param, partial, f"{where}: {param} from its read and phase fields{how}")
    context = dict(acq.params)
    for param, field, text, label, value in pending:
        context["field_strength_t"] = field_t
        with acq.reading(f"{label}={value}"):
            acq.set(param, units.from_vendor(float(text), field.convert, context), f"{where} {label}={value}")
    return acq
