"""Battery percent and RP2040 temperature from ADC readings."""

from firmware.health import Health, battery_pct, rp2040_temperature_c, volts


class Adc:
    def __init__(self, u16):
        self.u16 = u16

    def read_u16(self):
        return self.u16


def test_battery_percent_is_linear_and_clamped():
    assert (battery_pct(3.30), battery_pct(4.20), battery_pct(3.75)) == (0, 100, 50)
    assert (battery_pct(2.5), battery_pct(5.0)) == (0, 100)
    u16 = int(3.75 / 3 / 3.3 * 65535 + 0.5)  # 3.75 V behind the Pico's VSYS/3 divider
    assert Health(Adc(u16)).battery() == 50


def test_rp2040_temperature_at_27_degrees():
    u16 = int(0.706 / 3.3 * 65535 + 0.5)
    assert abs(rp2040_temperature_c(u16) - 27.0) < 0.1
    assert abs(volts(65535) - 3.3) < 1e-9
    assert Health().battery() is None and Health().temperature() is None
