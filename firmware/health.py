"""Battery and board temperature for STATUS (docs/protocol.md section 7), from ADC readings.

Pure arithmetic on ``read_u16()`` values, so it is tested on a PC; the board glue
(firmware/board.py) hands in the ADC channels.

- Battery: a single LiPo cell read through a divider (Pico: VSYS / 3 on ADC3, GPIO29).
  Its charge is taken as linear between 3.30 V (empty, the regulator's drop-out) and
  4.20 V (full): crude, but a technician only needs "charge it soon".
- Temperature: the RP2040's internal sensor on ADC4, 27 degC - (V - 0.706 V) / 1.721 mV/degC
  (RP2040 datasheet, section 4.9.5).
"""

VREF = 3.3
EMPTY_V, FULL_V = 3.30, 4.20


def volts(u16, divider=1.0):
    """The voltage a 16-bit-scaled ADC reading stands for, before a ``divider`` (e.g. 3)."""
    return u16 * VREF / 65535 * divider


def battery_pct(v):
    """0..100 % for a cell voltage ``v`` (clamped)."""
    pct = int((v - EMPTY_V) * 100 / (FULL_V - EMPTY_V) + 0.5)
    return 0 if pct < 0 else (100 if pct > 100 else pct)


def rp2040_temperature_c(u16):
    """Die temperature of the RP2040 from its sensor channel's reading."""
    return 27.0 - (volts(u16) - 0.706) / 0.001721


class Health:
    """What STATUS says about power and heat: ``battery_adc`` / ``temp_adc`` may be None (absent)."""

    def __init__(self, battery_adc=None, divider=3.0, temp_adc=None):
        self.battery_adc, self.divider, self.temp_adc = battery_adc, divider, temp_adc

    def battery(self):
        """Percent charge, or None for a bus-powered board (STATUS 255)."""
        if self.battery_adc is None:
            return None
        return battery_pct(volts(self.battery_adc.read_u16(), self.divider))

    def temperature(self):
        if self.temp_adc is None:
            return None
        return rp2040_temperature_c(self.temp_adc.read_u16())
